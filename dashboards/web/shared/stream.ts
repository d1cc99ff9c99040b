/**
 * Follows the API's live stream (`/api/stream`, server-sent events). EventSource cannot send an
 * Authorization header, and the key must not go in the URL, so this reads the event stream over fetch and
 * parses it here. It reconnects with a growing pause; changes made while it was away are not replayed, so
 * `onState('live')` after a reconnect tells the page to re-read what it shows.
 */
import type { ApiClient } from './api.js';
import type { IncidentChange } from './types.js';

export type StreamState = 'connecting' | 'live' | 'offline';

export function followIncidentChanges(
  client: ApiClient,
  onChange: (change: IncidentChange) => void,
  onState: (state: StreamState, reconnected: boolean) => void,
): () => void {
  const controller = new AbortController();
  let pause = 1000;
  let connectedBefore = false;

  const run = async () => {
    while (!controller.signal.aborted) {
      onState('connecting', false);
      try {
        const response = await fetch('/api/stream', {
          headers: client.headers({ accept: 'text/event-stream' }),
          signal: controller.signal,
          cache: 'no-store',
        });
        if (response.status === 401 || response.status === 403) {
          onState('offline', false);
          return; // the key cannot stream; the page's other calls report why
        }
        if (!response.ok || !response.body) throw new Error(`stream answered ${response.status}`);
        onState('live', connectedBefore);
        connectedBefore = true;
        pause = 1000;
        await readEvents(response.body, (event, data) => {
          if (event !== 'incident') return;
          try {
            onChange(JSON.parse(data) as IncidentChange);
          } catch {
            // A malformed message is skipped; the next one stands on its own.
          }
        });
      } catch {
        if (controller.signal.aborted) return;
      }
      onState('offline', false);
      await new Promise((resolve) => setTimeout(resolve, pause));
      pause = Math.min(pause * 2, 30_000);
    }
  };
  void run();
  return () => controller.abort();
}

/** Parses `text/event-stream`: messages end with a blank line; `event:` and `data:` lines; `:` comments. */
async function readEvents(
  body: ReadableStream<Uint8Array>,
  onMessage: (event: string, data: string) => void,
): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const message = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of message.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length > 0) onMessage(event, data.join('\n'));
      end = buffer.indexOf('\n\n');
    }
  }
}
