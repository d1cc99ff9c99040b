/**
 * A real SMTP server for the notification tests, run as its own process (`node --import tsx smtp-server.ts
 * <cert.pem> <key.pem>`): STARTTLS with the given certificate, and mail refused unless the session is
 * encrypted. Prints `{"port": n}` once listening, then one JSON line per message received.
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

const [certFile, keyFile] = process.argv.slice(2);
if (!certFile || !keyFile) throw new Error('usage: smtp-server.ts <cert.pem> <key.pem>');

const server = new SMTPServer({
  key: readFileSync(keyFile),
  cert: readFileSync(certFile),
  authOptional: true,
  logger: false,
  onMailFrom(_address, session, callback) {
    if (!session.secure) return callback(new Error('530 Must issue a STARTTLS command first'));
    callback();
  },
  onData(stream, session, callback) {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      const data = Buffer.concat(chunks).toString('utf8');
      const envelope = session.envelope;
      process.stdout.write(
        `${JSON.stringify({
          from: envelope.mailFrom ? envelope.mailFrom.address : null,
          to: envelope.rcptTo.map((r) => r.address),
          secure: session.secure,
          data,
        })}\n`,
      );
      callback();
    });
  },
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.server.address() as AddressInfo).port })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
