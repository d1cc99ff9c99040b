/**
 * E-mail through SMTP, always over TLS: STARTTLS required on submission (587) or implicit TLS (465), with
 * the server's certificate verified (against `ca_file` for a private CA).
 */
import { readFileSync } from 'node:fs';
import nodemailer, { type Transporter } from 'nodemailer';

export interface SmtpOptions {
  host: string;
  port: number;
  security: 'starttls' | 'tls';
  username?: string;
  password?: string;
  caFile?: string;
  from: string;
}

export interface EmailMessage {
  to: string;
  subject: string;
  text: string;
}

export class EmailSender {
  private readonly transport: Transporter;

  constructor(private readonly options: SmtpOptions) {
    this.transport = nodemailer.createTransport({
      host: options.host,
      port: options.port,
      secure: options.security === 'tls',
      requireTLS: options.security === 'starttls',
      ...(options.username ? { auth: { user: options.username, pass: options.password ?? '' } } : {}),
      tls: {
        rejectUnauthorized: true,
        ...(options.caFile ? { ca: readFileSync(options.caFile) } : {}),
      },
      connectionTimeout: 10_000,
      socketTimeout: 20_000,
    });
  }

  async send(message: EmailMessage): Promise<void> {
    await this.transport.sendMail({ from: this.options.from, ...message });
  }

  close(): void {
    this.transport.close();
  }
}
