import { addRelated, type EcsEvent, setUserName } from '../ecs.js';
import { parsePam } from './pam.js';
import { PARSED, type SourceParser, UNRECOGNISED } from './source-parser.js';

/**
 * Account and group changes logged by shadow-utils (useradd, usermod, userdel, groupadd, groupdel, groupmod,
 * gpasswd, chage, passwd, chpasswd) → ECS `iam` events: `user.name` is the account acted on, `group.*` the
 * group; the action says what changed.
 */
export const userManagementParser: SourceParser = {
  id: 'user-management',
  programs: [
    'useradd',
    'usermod',
    'userdel',
    'groupadd',
    'groupdel',
    'groupmod',
    'gpasswd',
    'chage',
    'passwd',
    'chpasswd',
    'newusers',
    'adduser',
    'deluser',
  ],
  parse(message, event) {
    event.event.module = 'system';
    event.event.dataset = 'system.auth';
    return parseUserManagement(message, event) || parsePam(message, event) ? PARSED : UNRECOGNISED;
  },
};

type Kind = 'user' | 'group';

function iam(event: EcsEvent, action: string, kind: Kind, change: 'creation' | 'change' | 'deletion'): true {
  event.event.kind = 'event';
  event.event.category = ['iam'];
  event.event.type = kind === 'user' ? ['user', change] : ['group', change];
  event.event.action = action;
  event.event.outcome = 'success';
  return true;
}

function setGroup(event: EcsEvent, name: string | undefined, id?: string): void {
  const group: Record<string, string> = {};
  if (name) group.name = name;
  if (id) group.id = id;
  event.group = group;
}

/** `name=bob, UID=1001, GID=1001, home=/home/bob` → fields. */
function commaFields(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const part of text.split(', ')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return fields;
}

/** The quoted names in `add 'bob' to group 'sudo'` → `['bob', 'sudo']`. */
function quoted(text: string): string[] {
  const names: string[] = [];
  let i = text.indexOf("'");
  while (i >= 0) {
    const close = text.indexOf("'", i + 1);
    if (close < 0) break;
    names.push(text.slice(i + 1, close));
    i = text.indexOf("'", close + 1);
  }
  return names;
}

function parseUserManagement(message: string, event: EcsEvent): boolean {
  if (message.startsWith('new user: ')) {
    const fields = commaFields(message.slice(10));
    if (!fields.name) return false;
    setUserName(event, fields.name);
    if (fields.UID) event.user!.id = fields.UID;
    setGroup(event, undefined, fields.GID);
    event.system = { auth: { useradd: { home: fields.home, shell: fields.shell } } };
    return iam(event, 'user_created', 'user', 'creation');
  }
  if (message.startsWith('new group: ') || message.startsWith('group added to ')) {
    const colon = message.indexOf(': ');
    const fields = commaFields(message.slice(colon + 2));
    if (!fields.name) return false;
    setGroup(event, fields.name, fields.GID);
    return iam(event, 'group_created', 'group', 'creation');
  }
  const names = quoted(message);
  if (message.startsWith('add ') && names.length === 2) {
    setUserName(event, names[0]!);
    setGroup(event, names[1]);
    return iam(event, 'user_added_to_group', 'group', 'change');
  }
  if (message.startsWith('delete ') && message.includes(' from ') && names.length === 2) {
    setUserName(event, names[0]!);
    setGroup(event, names[1]);
    return iam(event, 'user_removed_from_group', 'group', 'change');
  }
  if (message.startsWith('delete user ') && names.length === 1) {
    setUserName(event, names[0]!);
    return iam(event, 'user_deleted', 'user', 'deletion');
  }
  if (
    (message.startsWith('removed group ') || message.startsWith('removed shadow group ')) &&
    names.length >= 1
  ) {
    setGroup(event, names[0]);
    if (names[1]) addRelated(event, 'user', names[1]);
    return iam(event, 'group_deleted', 'group', 'deletion');
  }
  if (message.startsWith('group ') && message.includes(' removed') && names.length >= 1) {
    setGroup(event, names[0]);
    return iam(event, 'group_deleted', 'group', 'deletion');
  }
  if (message.startsWith('lock user ') && names.length === 1) {
    setUserName(event, names[0]!);
    return iam(event, 'user_locked', 'user', 'change');
  }
  if (message.startsWith('unlock user ') && names.length === 1) {
    setUserName(event, names[0]!);
    return iam(event, 'user_unlocked', 'user', 'change');
  }
  if (message.startsWith('change user ') && names.length >= 1) {
    setUserName(event, names[0]!);
    return iam(event, 'user_modified', 'user', 'change');
  }
  if (message.startsWith('password for ') && message.includes(' changed') && names.length >= 1) {
    setUserName(event, names[0]!);
    if (names[1]) addRelated(event, 'user', names[1]);
    return iam(event, 'password_changed', 'user', 'change');
  }
  // gpasswd: `user bob added by root to group sudo`, `user bob removed by root from group sudo`
  if (message.startsWith('user ')) {
    const words = message.split(' ');
    if (words.length === 8 && words[3] === 'by' && (words[2] === 'added' || words[2] === 'removed')) {
      setUserName(event, words[1]!);
      addRelated(event, 'user', words[4]!);
      setGroup(event, words[7]);
      return iam(
        event,
        words[2] === 'added' ? 'user_added_to_group' : 'user_removed_from_group',
        'group',
        'change',
      );
    }
  }
  if (message.startsWith('changed password expiry for ')) {
    setUserName(event, message.slice(28).trim());
    return iam(event, 'user_modified', 'user', 'change');
  }
  return false;
}
