import { addRelated, type EcsEvent, setSourceAddress, setUserName } from '../ecs.js';
import { parseIsoTimestamp } from '../envelope/iso-timestamp.js';
import { isObject, mergeEcs } from './json.js';
import { PARSED, type ParseOutcome } from './source-parser.js';
import { classifyWindowsEvent } from './windows-events.js';

/**
 * Windows events as agents ship them, in three JSON shapes, brought to one form and then to ECS:
 * - Winlogbeat / Elastic Agent: ECS with `winlog.*` (`winlog.event_data`, `winlog.channel`, ...);
 * - evtx rendered as JSON: `{"Event":{"System":{...},"EventData":{...}}}` (attributes under `#attributes`,
 *   or `Data` as a list of `{Name, #text}`);
 * - NXLog (and OTRF datasets): flat, `EventID`, `Channel`, `Hostname`, event data fields at the top level.
 * The event data stays under `winlog.event_data` with its original names (what Sigma rules use); the
 * well-known fields are mapped to ECS (`process.*`, `user.*`, `source.*`, ...).
 */
export interface WindowsEvent {
  eventId: string;
  channel?: string;
  provider?: string;
  computer?: string;
  time?: string;
  recordId?: string;
  processId?: number;
  threadId?: number;
  userSid?: string;
  level?: string;
  message?: string;
  eventData: Record<string, string>;
}

export function isWindowsEvent(doc: Record<string, unknown>): boolean {
  if (isObject(doc.Event) && isObject(doc.Event.System)) return true;
  if (isObject(doc.winlog)) return true;
  return (
    doc.EventID !== undefined &&
    (doc.Channel !== undefined || doc.SourceName !== undefined || doc.ProviderName !== undefined)
  );
}

/** `zone`: where times written without an offset (NXLog's `EventTime`) are read. */
export function mapWindowsEvent(doc: Record<string, unknown>, event: EcsEvent, zone: string): ParseOutcome {
  let windows: WindowsEvent;
  if (isObject(doc.Event) && isObject(doc.Event.System)) {
    windows = fromEvtx(doc.Event);
  } else if (isObject(doc.winlog)) {
    mergeEcs(doc, event); // already ECS: keep everything the shipper set
    windows = fromWinlogbeat(doc.winlog, event);
  } else {
    windows = fromNxlog(doc);
  }
  applyWindows(windows, event, zone);
  return PARSED;
}

const FLAT_SYSTEM_KEYS = new Set([
  'EventID',
  'Channel',
  'Hostname',
  'SourceName',
  'ProviderName',
  'ProviderGuid',
  'EventTime',
  'TimeCreated',
  'EventReceivedTime',
  'RecordNumber',
  'EventRecordID',
  'ExecutionProcessID',
  'ExecutionThreadID',
  'Message',
  'Severity',
  'SeverityValue',
  'Level',
  'Keywords',
  'Task',
  'Opcode',
  'OpcodeValue',
  'Version',
  'Category',
  'EventType',
  'Domain',
  'AccountName',
  'UserID',
  'AccountType',
  'SourceModuleName',
  'SourceModuleType',
  '@timestamp',
  '@version',
  'host',
  'port',
  'tags',
  'EventTypeOrignal',
  'ThreadID',
  'ProcessID',
]);

function text(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (isObject(value) && '#text' in value) return text(value['#text']);
  return JSON.stringify(value);
}

function attribute(node: unknown, name: string): string | undefined {
  if (!isObject(node)) return undefined;
  const attributes = isObject(node['#attributes']) ? node['#attributes'] : node;
  return text(attributes[name] ?? attributes[`@${name}`]);
}

function integer(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = value.startsWith('0x') ? Number.parseInt(value, 16) : Number(value);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

function fromEvtx(root: Record<string, unknown>): WindowsEvent {
  const system = root.System as Record<string, unknown>;
  const eventData: Record<string, string> = {};
  for (const section of [root.EventData, root.UserData]) {
    if (!isObject(section)) continue;
    const data = section.Data;
    if (Array.isArray(data)) {
      data.forEach((item, index) => {
        const name = attribute(item, 'Name') ?? `param${index + 1}`;
        const value = isObject(item) ? text(item['#text']) : text(item);
        if (value !== undefined) eventData[name] = value;
      });
    }
    for (const [key, value] of Object.entries(section)) {
      if (key === 'Data' && Array.isArray(value)) continue;
      if (key === '#attributes') continue;
      // UserData wraps its fields in one element named after the event (`<LogFileCleared>`).
      if (isObject(value) && !('#text' in value)) {
        for (const [inner, innerValue] of Object.entries(value)) {
          if (inner !== '#attributes' && text(innerValue) !== undefined) eventData[inner] = text(innerValue)!;
        }
      } else if (text(value) !== undefined) {
        eventData[key] = text(value)!;
      }
    }
  }
  return compact({
    eventId: text(system.EventID) ?? '',
    channel: text(system.Channel),
    provider: attribute(system.Provider, 'Name'),
    computer: text(system.Computer),
    time: attribute(system.TimeCreated, 'SystemTime'),
    recordId: text(system.EventRecordID),
    processId: integer(attribute(system.Execution, 'ProcessID')),
    threadId: integer(attribute(system.Execution, 'ThreadID')),
    userSid: attribute(system.Security, 'UserID'),
    level: text(system.Level),
    eventData,
  });
}

function fromNxlog(doc: Record<string, unknown>): WindowsEvent {
  const eventData: Record<string, string> = {};
  for (const [key, value] of Object.entries(doc)) {
    if (!FLAT_SYSTEM_KEYS.has(key) && text(value) !== undefined) eventData[key] = text(value)!;
  }
  return compact({
    eventId: text(doc.EventID) ?? '',
    channel: text(doc.Channel),
    provider: text(doc.SourceName ?? doc.ProviderName),
    computer: text(doc.Hostname),
    time: text(doc.EventTime ?? doc.TimeCreated ?? doc['@timestamp']),
    recordId: text(doc.RecordNumber ?? doc.EventRecordID),
    processId: integer(text(doc.ExecutionProcessID)),
    threadId: integer(text(doc.ExecutionThreadID)),
    userSid: text(doc.UserID),
    level: text(doc.Level ?? doc.SeverityValue),
    message: text(doc.Message),
    eventData,
  });
}

function fromWinlogbeat(winlog: Record<string, unknown>, event: EcsEvent): WindowsEvent {
  const eventData: Record<string, string> = {};
  for (const section of [winlog.event_data, winlog.user_data]) {
    if (isObject(section))
      for (const [key, value] of Object.entries(section))
        if (text(value) !== undefined) eventData[key] = text(value)!;
  }
  const process = isObject(winlog.process) ? winlog.process : {};
  return compact({
    eventId: text(winlog.event_id ?? event.event.code) ?? '',
    channel: text(winlog.channel),
    provider: text(winlog.provider_name),
    computer: text(winlog.computer_name),
    time: undefined,
    recordId: text(winlog.record_id),
    processId: integer(text(process.pid)),
    threadId: integer(text(isObject(process.thread) ? process.thread.id : undefined)),
    userSid: text(isObject(winlog.user) ? winlog.user.identifier : undefined),
    eventData,
  });
}

function compact(windows: WindowsEvent): WindowsEvent {
  for (const key of Object.keys(windows) as (keyof WindowsEvent)[])
    if (windows[key] === undefined) delete windows[key];
  return windows;
}

const DATASETS: Record<string, string> = {
  security: 'windows.security',
  system: 'windows.system',
  application: 'windows.application',
  'microsoft-windows-sysmon/operational': 'windows.sysmon_operational',
  'microsoft-windows-powershell/operational': 'windows.powershell_operational',
  'windows powershell': 'windows.powershell',
  'microsoft-windows-windows defender/operational': 'windows.defender',
  forwardedevents: 'windows.forwarded',
};

function applyWindows(windows: WindowsEvent, event: EcsEvent, zone: string): void {
  event.event.kind = 'event';
  event.event.code = windows.eventId;
  event.event.module = 'windows';
  event.event.dataset = DATASETS[windows.channel?.toLowerCase() ?? ''] ?? 'windows.log';
  if (windows.provider) event.event.provider = windows.provider;
  if (windows.time) {
    const time = windowsTime(windows.time, zone);
    if (time !== undefined) event['@timestamp'] = new Date(time).toISOString();
  }
  if (windows.message) event.message = windows.message;
  const winlog: Record<string, unknown> = {
    ...(isObject(event.winlog) ? event.winlog : {}),
    event_id: windows.eventId,
    event_data: windows.eventData,
  };
  if (windows.channel) winlog.channel = windows.channel;
  if (windows.provider) winlog.provider_name = windows.provider;
  if (windows.computer) winlog.computer_name = windows.computer;
  if (windows.recordId) winlog.record_id = windows.recordId;
  if (windows.processId !== undefined) {
    winlog.process = {
      pid: windows.processId,
      ...(windows.threadId !== undefined ? { thread: { id: windows.threadId } } : {}),
    };
  }
  if (windows.userSid) winlog.user = { identifier: windows.userSid };
  event.winlog = winlog;
  if (windows.computer) event.host = { ...event.host, name: windows.computer, hostname: windows.computer };
  mapEventData(windows, event);
  classifyWindowsEvent(windows, event);
}

/** Event data fields with a fixed ECS meaning (Security auditing and Sysmon names). */
function mapEventData(windows: WindowsEvent, event: EcsEvent): void {
  const d = windows.eventData;
  const value = (key: string) => {
    const v = d[key];
    return v === undefined || v === '' || v === '-' ? undefined : v;
  };
  const sysmon = windows.channel?.toLowerCase().includes('sysmon') ?? false;
  const process: Record<string, unknown> = { ...(isObject(event.process) ? event.process : {}) };
  const executable =
    value('Image') ?? value('NewProcessName') ?? value('ProcessName') ?? value('Application');
  if (executable) {
    process.executable = executable;
    process.name = executable.slice(Math.max(executable.lastIndexOf('\\'), executable.lastIndexOf('/')) + 1);
  }
  const commandLine = value('CommandLine');
  if (commandLine) process.command_line = commandLine;
  // 4688 names the new process NewProcessId and its creator ProcessId.
  const pid = integer(value('NewProcessId') ?? value('ProcessId'));
  if (pid !== undefined) process.pid = pid;
  const parentExecutable = value('ParentImage') ?? value('ParentProcessName');
  const parentPid = integer(
    value('ParentProcessId') ?? (value('NewProcessId') ? value('ProcessId') : undefined),
  );
  if (parentExecutable || parentPid !== undefined || value('ParentCommandLine')) {
    const parent: Record<string, unknown> = {};
    if (parentExecutable) {
      parent.executable = parentExecutable;
      parent.name = parentExecutable.slice(parentExecutable.lastIndexOf('\\') + 1);
    }
    if (parentPid !== undefined) parent.pid = parentPid;
    if (value('ParentCommandLine')) parent.command_line = value('ParentCommandLine');
    process.parent = parent;
  }
  if (value('CurrentDirectory')) process.working_directory = value('CurrentDirectory');
  if (value('OriginalFileName')) process.pe = { original_file_name: value('OriginalFileName') };
  if (value('ProcessGuid')) process.entity_id = value('ProcessGuid');
  if (Object.keys(process).length > 0) event.process = process as EcsEvent['process'];

  // The account acted on (Target*) wins over the one acting (Subject*) for logons and account changes.
  const targetUser = value('TargetUserName');
  const subjectUser = value('SubjectUserName');
  const sysmonUser = sysmon ? value('User') : undefined;
  const userName = targetUser ?? sysmonUser ?? subjectUser ?? value('AccountName');
  if (userName) {
    let name = userName;
    let domain = value('TargetDomainName') ?? value('SubjectDomainName');
    const slash = name.indexOf('\\');
    if (slash > 0) {
      domain = name.slice(0, slash);
      name = name.slice(slash + 1);
    }
    setUserName(event, name);
    if (domain) event.user!.domain = domain;
    const sid = targetUser ? value('TargetUserSid') : sysmonUser ? undefined : value('SubjectUserSid');
    if (sid) event.user!.id = sid;
    if (targetUser && subjectUser && subjectUser !== targetUser) addRelated(event, 'user', subjectUser);
  }

  const sourceIp =
    value('IpAddress') ??
    value('SourceAddress') ??
    (sysmon ? value('SourceIp') : undefined) ??
    value('ClientAddress');
  if (sourceIp) {
    const ip = sourceIp.startsWith('::ffff:') ? sourceIp.slice(7) : sourceIp;
    setSourceAddress(event, ip, integer(value('IpPort') ?? value('SourcePort')));
  }
  if (value('WorkstationName') || value('SourceHostname')) {
    event.source = { ...event.source, domain: value('WorkstationName') ?? value('SourceHostname') };
  }
  const destinationIp = sysmon ? value('DestinationIp') : value('DestAddress');
  if (destinationIp) {
    const destination: NonNullable<EcsEvent['destination']> = { ip: destinationIp };
    const port = integer(value('DestinationPort') ?? value('DestPort'));
    if (port !== undefined) destination.port = port;
    if (value('DestinationHostname')) destination.domain = value('DestinationHostname');
    event.destination = destination;
    addRelated(event, 'ip', destinationIp);
  }
  if (sysmon && value('Protocol')) event.network = { transport: value('Protocol')!.toLowerCase() };
  if (value('TargetFilename')) {
    const path = value('TargetFilename')!;
    event.file = { path, name: path.slice(path.lastIndexOf('\\') + 1) };
  }
  if (value('TargetObject'))
    event.registry = {
      path: value('TargetObject'),
      ...(value('Details') ? { data: { strings: [value('Details')] } } : {}),
    };
  if (value('QueryName')) event.dns = { question: { name: value('QueryName') } };
  if (value('Hashes')) {
    const hash: Record<string, string> = {};
    for (const part of value('Hashes')!.split(',')) {
      const eq = part.indexOf('=');
      if (eq > 0) hash[part.slice(0, eq).toLowerCase()] = part.slice(eq + 1).toLowerCase();
    }
    if (event.process) (event.process as Record<string, unknown>).hash = hash;
  }
  if (value('ScriptBlockText')) event.powershell = { file: { script_block_text: value('ScriptBlockText') } };
  if (value('LogonType'))
    (event.winlog as Record<string, unknown>).logon = {
      type: value('LogonType'),
      id: value('TargetLogonId'),
    };
  if (value('ServiceName')) event.service = { name: value('ServiceName') };
  if (value('TargetSid') || value('MemberName') || value('MemberSid')) {
    event.group = {
      ...(value('TargetUserName') && value('MemberSid') ? { name: value('TargetUserName') } : {}),
      ...(value('TargetSid') ? { id: value('TargetSid') } : {}),
    };
  }
}

/** ISO 8601 with or without offset (`2024-06-15 20:32:01` from NXLog is the agent's local time). */
function windowsTime(value: string, zone: string): number | undefined {
  const parsed = parseIsoTimestamp(value, 0, value.length, zone);
  if (parsed) return parsed.epoch;
  const time = Date.parse(value);
  return Number.isFinite(time) ? time : undefined;
}
