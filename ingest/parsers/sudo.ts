import { addRelated, type EcsEvent, setUserName } from '../ecs.js';
import { parsePam } from './pam.js';
import { PARSED, type SourceParser, UNRECOGNISED } from './source-parser.js';

/**
 * sudo's own log lines, `alice : [error ; ]TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id`,
 * and its PAM lines. A command run is a process start by `user.name` as `user.effective.name`; refusals
 * (wrong password, not in sudoers, command not allowed) are failures with the reason.
 */
export const sudoParser: SourceParser = {
  id: 'sudo',
  programs: ['sudo'],
  parse(message, event) {
    event.event.module = 'system';
    event.event.dataset = 'system.auth';
    return parseSudo(message, event) || parsePam(message, event) ? PARSED : UNRECOGNISED;
  },
};

function parseSudo(message: string, event: EcsEvent): boolean {
  const separator = message.indexOf(' : ');
  if (separator < 0) return false;
  const user = message.slice(0, separator).trim();
  if (user === '' || user.includes(' ')) return false;
  const fields: Record<string, string> = {};
  let error: string | undefined;
  for (const part of message.slice(separator + 3).split(' ; ')) {
    const eq = part.indexOf('=');
    const key = eq > 0 ? part.slice(0, eq) : '';
    if (eq > 0 && /^[A-Z_]+$/.test(key)) fields[key] = part.slice(eq + 1);
    else if (error === undefined) error = part.trim();
  }
  // A real sudo line names the terminal, target user or command; anything else is not sudo's.
  if (fields.COMMAND === undefined && fields.USER === undefined && fields.TTY === undefined) return false;
  setUserName(event, user);
  if (fields.USER) {
    event.user!.effective = { name: fields.USER };
    addRelated(event, 'user', fields.USER);
  }
  if (fields.COMMAND) {
    const command = fields.COMMAND;
    const space = command.indexOf(' ');
    event.process = {
      ...event.process,
      command_line: command,
      executable: space < 0 ? command : command.slice(0, space),
      args: command.split(' ').filter((arg) => arg !== ''),
    };
  }
  event.system = {
    auth: {
      sudo: {
        ...(fields.TTY ? { tty: fields.TTY } : {}),
        ...(fields.PWD ? { pwd: fields.PWD } : {}),
        ...(fields.USER ? { user: fields.USER } : {}),
        ...(fields.COMMAND ? { command: fields.COMMAND } : {}),
        ...(error ? { error } : {}),
      },
    },
  };
  event.event.kind = 'event';
  event.event.action = 'sudo';
  if (error === undefined) {
    event.event.category = ['process'];
    event.event.type = ['start'];
    event.event.outcome = 'success';
  } else {
    const passwordProblem = error.includes('incorrect password') || error.includes('password is required');
    event.event.category = passwordProblem ? ['authentication'] : ['process'];
    event.event.type = passwordProblem ? ['info'] : ['denied'];
    event.event.outcome = 'failure';
    event.event.reason = error;
  }
  return true;
}
