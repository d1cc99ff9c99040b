import { type EcsEvent, setUserName } from '../ecs.js';
import type { WindowsEvent } from './windows.js';

type Outcome = 'success' | 'failure';
interface Meaning {
  category: string[];
  type: string[];
  action: string;
  outcome?: Outcome;
}

/** Security auditing events (channel Security) → ECS categorisation, as Elastic's Windows pipelines do. */
const SECURITY: Record<string, Meaning> = {
  '1102': { category: ['iam'], type: ['admin', 'change'], action: 'audit-log-cleared', outcome: 'success' },
  '4624': { category: ['authentication'], type: ['start'], action: 'logged-in', outcome: 'success' },
  '4625': { category: ['authentication'], type: ['start'], action: 'logon-failed', outcome: 'failure' },
  '4634': { category: ['authentication'], type: ['end'], action: 'logged-out', outcome: 'success' },
  '4647': { category: ['authentication'], type: ['end'], action: 'logged-out', outcome: 'success' },
  '4648': { category: ['authentication'], type: ['start'], action: 'logged-in-explicit', outcome: 'success' },
  '4672': { category: ['iam'], type: ['admin'], action: 'logged-in-special', outcome: 'success' },
  '4688': { category: ['process'], type: ['start'], action: 'created-process', outcome: 'success' },
  '4689': { category: ['process'], type: ['end'], action: 'exited-process', outcome: 'success' },
  '4697': {
    category: ['configuration'],
    type: ['creation'],
    action: 'service-installed',
    outcome: 'success',
  },
  '4698': {
    category: ['configuration'],
    type: ['creation'],
    action: 'scheduled-task-created',
    outcome: 'success',
  },
  '4699': {
    category: ['configuration'],
    type: ['deletion'],
    action: 'scheduled-task-deleted',
    outcome: 'success',
  },
  '4719': {
    category: ['iam'],
    type: ['admin', 'change'],
    action: 'changed-audit-config',
    outcome: 'success',
  },
  '4720': { category: ['iam'], type: ['user', 'creation'], action: 'added-user-account', outcome: 'success' },
  '4722': { category: ['iam'], type: ['user', 'change'], action: 'enabled-user-account', outcome: 'success' },
  '4723': { category: ['iam'], type: ['user', 'change'], action: 'changed-password', outcome: 'success' },
  '4724': { category: ['iam'], type: ['user', 'change'], action: 'reset-password', outcome: 'success' },
  '4725': {
    category: ['iam'],
    type: ['user', 'change'],
    action: 'disabled-user-account',
    outcome: 'success',
  },
  '4726': {
    category: ['iam'],
    type: ['user', 'deletion'],
    action: 'deleted-user-account',
    outcome: 'success',
  },
  '4728': {
    category: ['iam'],
    type: ['group', 'change'],
    action: 'added-member-to-group',
    outcome: 'success',
  },
  '4729': {
    category: ['iam'],
    type: ['group', 'change'],
    action: 'removed-member-from-group',
    outcome: 'success',
  },
  '4732': {
    category: ['iam'],
    type: ['group', 'change'],
    action: 'added-member-to-group',
    outcome: 'success',
  },
  '4733': {
    category: ['iam'],
    type: ['group', 'change'],
    action: 'removed-member-from-group',
    outcome: 'success',
  },
  '4738': {
    category: ['iam'],
    type: ['user', 'change'],
    action: 'modified-user-account',
    outcome: 'success',
  },
  '4740': {
    category: ['iam'],
    type: ['user', 'change'],
    action: 'locked-out-user-account',
    outcome: 'success',
  },
  '4756': {
    category: ['iam'],
    type: ['group', 'change'],
    action: 'added-member-to-group',
    outcome: 'success',
  },
  '4757': {
    category: ['iam'],
    type: ['group', 'change'],
    action: 'removed-member-from-group',
    outcome: 'success',
  },
  '4767': {
    category: ['iam'],
    type: ['user', 'change'],
    action: 'unlocked-user-account',
    outcome: 'success',
  },
  '4768': {
    category: ['authentication'],
    type: ['start'],
    action: 'kerberos-authentication-ticket-requested',
  },
  '4769': { category: ['authentication'], type: ['start'], action: 'kerberos-service-ticket-requested' },
  '4771': {
    category: ['authentication'],
    type: ['start'],
    action: 'kerberos-preauth-failed',
    outcome: 'failure',
  },
  '4776': { category: ['authentication'], type: ['start'], action: 'credential-validated' },
};

const SYSMON: Record<string, Meaning> = {
  '1': { category: ['process'], type: ['start'], action: 'Process Create' },
  '2': { category: ['file'], type: ['change'], action: 'File creation time changed' },
  '3': { category: ['network'], type: ['connection', 'start'], action: 'Network connection detected' },
  '5': { category: ['process'], type: ['end'], action: 'Process terminated' },
  '6': { category: ['driver'], type: ['start'], action: 'Driver loaded' },
  '7': { category: ['process'], type: ['change'], action: 'Image loaded' },
  '8': { category: ['process'], type: ['change'], action: 'CreateRemoteThread detected' },
  '10': { category: ['process'], type: ['access'], action: 'Process accessed' },
  '11': { category: ['file'], type: ['creation'], action: 'File created' },
  '12': {
    category: ['configuration', 'registry'],
    type: ['change'],
    action: 'Registry object added or deleted',
  },
  '13': { category: ['configuration', 'registry'], type: ['change'], action: 'Registry value set' },
  '14': { category: ['configuration', 'registry'], type: ['change'], action: 'Registry object renamed' },
  '15': { category: ['file'], type: ['access'], action: 'File stream created' },
  '17': { category: ['file'], type: ['creation'], action: 'Pipe Created' },
  '18': { category: ['file'], type: ['access'], action: 'Pipe Connected' },
  '22': { category: ['network'], type: ['connection', 'protocol', 'info'], action: 'Dns query' },
  '23': { category: ['file'], type: ['deletion'], action: 'File Delete archived' },
  '25': { category: ['process'], type: ['change'], action: 'Process Tampering' },
  '26': { category: ['file'], type: ['deletion'], action: 'File Delete logged' },
};

const SYSTEM: Record<string, Meaning> = {
  '7045': {
    category: ['configuration'],
    type: ['creation'],
    action: 'service-installed',
    outcome: 'success',
  },
  '104': { category: ['iam'], type: ['admin', 'change'], action: 'audit-log-cleared', outcome: 'success' },
};

const POWERSHELL: Record<string, Meaning> = {
  '4103': { category: ['process'], type: ['info'], action: 'Executing Pipeline' },
  '4104': { category: ['process'], type: ['info'], action: 'Execute a Remote Command' },
  '400': { category: ['process'], type: ['start'], action: 'Engine Lifecycle' },
  '800': { category: ['process'], type: ['info'], action: 'Pipeline Execution Details' },
};

/** Sets event.category/type/action/outcome from the channel and event id, and fixes group-event fields. */
export function classifyWindowsEvent(windows: WindowsEvent, event: EcsEvent): void {
  const channel = windows.channel?.toLowerCase() ?? '';
  const table =
    channel === 'security'
      ? SECURITY
      : channel.includes('sysmon')
        ? SYSMON
        : channel.includes('powershell')
          ? POWERSHELL
          : channel === 'system'
            ? SYSTEM
            : undefined;
  const meaning =
    table?.[windows.eventId] ?? (channel === 'forwardedevents' ? SECURITY[windows.eventId] : undefined);
  if (!meaning) return;
  event.event.category = meaning.category;
  event.event.type = meaning.type;
  event.event.action = meaning.action;
  if (meaning.outcome) event.event.outcome = meaning.outcome;
  const data = windows.eventData;
  if (
    channel === 'security' &&
    (windows.eventId === '4768' || windows.eventId === '4769' || windows.eventId === '4776')
  ) {
    const status = data.Status ?? data.ResultCode;
    if (status) event.event.outcome = status === '0x0' || status === '0' ? 'success' : 'failure';
  }
  if (windows.eventId === '4625' && (data.SubStatus || data.Status)) {
    event.event.reason =
      LOGON_FAILURES[(data.SubStatus ?? '').toLowerCase()] ??
      LOGON_FAILURES[(data.Status ?? '').toLowerCase()];
  }
  if (meaning.type[0] === 'group') {
    // For group changes TargetUserName is the group; the member is MemberName (a DN) or MemberSid.
    event.group = {
      name: data.TargetUserName,
      ...(data.TargetSid ? { id: data.TargetSid } : {}),
      ...(data.TargetDomainName ? { domain: data.TargetDomainName } : {}),
    };
    const member =
      data.MemberName && data.MemberName !== '-'
        ? (/^CN=([^,]+)/.exec(data.MemberName)?.[1] ?? data.MemberName)
        : undefined;
    if (member) {
      setUserName(event, member);
      if (data.MemberSid) event.user!.id = data.MemberSid;
      delete event.user!.domain;
    } else if (data.SubjectUserName) {
      event.user = { name: data.SubjectUserName };
    }
  }
}

const LOGON_FAILURES: Record<string, string> = {
  '0xc0000064': 'User name does not exist',
  '0xc000006a': 'User name is correct but the password is wrong',
  '0xc0000234': 'User is currently locked out',
  '0xc0000072': 'Account is currently disabled',
  '0xc000006f': 'User tried to logon outside his day of week or time of day restrictions',
  '0xc0000070': 'Workstation restriction',
  '0xc0000193': 'Account expiration',
  '0xc0000071': 'Expired password',
  '0xc0000133': 'Clocks between DC and other computer too far out of sync',
  '0xc0000224': 'User is required to change password at next logon',
  '0xc0000225': 'Evidently a bug in Windows and not a risk',
  '0xc000015b': 'The user has not been granted the requested logon type at this machine',
  '0xc000006d': 'Unknown user name or bad password',
};
