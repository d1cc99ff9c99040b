import { addRelated, type EcsEvent, setUserName } from '../ecs.js';
import { parsePam } from './pam.js';
import { PARSED, type SourceParser, UNRECOGNISED } from './source-parser.js';

/**
 * su's lines in their util-linux and shadow forms: `(to root) alice on pts/0`, `FAILED SU (to root) alice on
 * pts/0`, `Successful su for root by alice`, `FAILED su for root by alice`, `+ pts/0 alice:root`, and its PAM
 * lines. `user.name` is who ran su, `user.effective.name` whom they became.
 */
export const suParser: SourceParser = {
  id: 'su',
  programs: ['su', 'su-l'],
  parse(message, event) {
    event.event.module = 'system';
    event.event.dataset = 'system.auth';
    return parseSu(message, event) || parsePam(message, event) ? PARSED : UNRECOGNISED;
  },
};

function parseSu(message: string, event: EcsEvent): boolean {
  let failed = false;
  let body = message;
  if (body.startsWith('FAILED SU ')) {
    failed = true;
    body = body.slice(10);
  }
  if (body.startsWith('(to ')) {
    const close = body.indexOf(') ');
    const on = body.lastIndexOf(' on ');
    if (close < 0) return false;
    const user = body.slice(close + 2, on > close ? on : body.length);
    return record(event, user, body.slice(4, close), on > close ? body.slice(on + 4) : undefined, failed);
  }
  const successful = message.startsWith('Successful su for ');
  if (successful || message.startsWith('FAILED su for ')) {
    const start = successful ? 18 : 14;
    const by = message.indexOf(' by ', start);
    if (by < 0) return false;
    return record(event, message.slice(by + 4), message.slice(start, by), undefined, !successful);
  }
  const sign = message.charCodeAt(0);
  if ((sign === 43 || sign === 45) && message.charCodeAt(1) === 32) {
    const parts = message.slice(2).split(' ');
    const pair = parts[1]?.split(':');
    if (parts.length !== 2 || pair?.length !== 2) return false;
    return record(event, pair[0]!, pair[1]!, parts[0], sign === 45);
  }
  return false;
}

function record(
  event: EcsEvent,
  user: string,
  target: string,
  tty: string | undefined,
  failed: boolean,
): boolean {
  if (user === '' || target === '') return false;
  setUserName(event, user);
  event.user!.effective = { name: target };
  addRelated(event, 'user', target);
  event.event.kind = 'event';
  event.event.category = ['authentication'];
  event.event.type = ['info'];
  event.event.action = 'su';
  event.event.outcome = failed ? 'failure' : 'success';
  if (tty) event.system = { auth: { su: { tty } } };
  return true;
}
