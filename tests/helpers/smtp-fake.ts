/**
 * A local SMTP server for tests (the `smtp-server` package, plain TCP on 127.0.0.1 with an ephemeral port): each
 * accepted message is parsed with `mailparser` and recorded with its envelope, headers, text and HTML parts.
 * `failNext` refuses the next N messages at the end of DATA with a given reply (a 4xx temporary or a 5xx permanent
 * one), as a server over quota or refusing the content would. With `auth` the server requires AUTH (PLAIN or LOGIN)
 * before MAIL FROM and refuses other credentials with 535. STARTTLS is not offered: the fake has no certificate a
 * client would trust, and a client connects to it on the loopback interface only.
 */
import type { AddressInfo } from 'node:net';
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface SmtpFakeMessage {
  envelope: { from: string | null; to: string[] };
  /** The user the session logged in as; null without AUTH. */
  user: string | null;
  /** The message as it came over DATA. */
  raw: string;
  /** Parsed headers, lower-cased names; structured headers (addresses, dates) as mailparser gives them. */
  headers: ParsedMail['headers'];
  subject: string | null;
  messageId: string | null;
  inReplyTo: string | null;
  references: string[];
  from: string | null;
  to: string[];
  text: string | null;
  html: string | null;
}

export interface SmtpFake {
  host: string;
  port: number;
  /** `smtp://[user:pass@]127.0.0.1:<port>`, the user and password percent-encoded. */
  url(login?: { user: string; pass: string }): string;
  messages: SmtpFakeMessage[];
  /** Messages refused by `failNext`, with the reply they got. */
  refused: { reply: string; raw: string }[];
  /** AUTH attempts: the user named and whether the credentials were right (never the password). */
  logins: { user: string; ok: boolean }[];
  /** The next `count` messages are refused after DATA with `code` and `text` ("451 4.3.0 try again later"). */
  failNext(count: number, code: number, text?: string): void;
  close(): Promise<void>;
}

function addresses(value: AddressObject | AddressObject[] | undefined): string[] {
  const list = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return list.flatMap((a) => a.value.map((v) => v.address ?? '')).filter((a) => a !== '');
}

export async function startSmtpFake(opts: { auth?: { user: string; pass: string } } = {}): Promise<SmtpFake> {
  const messages: SmtpFakeMessage[] = [];
  const refused: { reply: string; raw: string }[] = [];
  const logins: { user: string; ok: boolean }[] = [];
  let failing = { remaining: 0, code: 0, text: '' };

  const server = new SMTPServer({
    logger: false,
    banner: 'earshot smtp fake',
    disabledCommands: opts.auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    authMethods: ['PLAIN', 'LOGIN'],
    authOptional: !opts.auth,
    // Plain TCP on loopback: AUTH without TLS is allowed here and nowhere else.
    allowInsecureAuth: true,
    // Clients close after each message; anything left over is cut off at close.
    closeTimeout: 200,
    onAuth(auth, _session, callback) {
      const ok = !!opts.auth && auth.username === opts.auth.user && auth.password === opts.auth.pass;
      logins.push({ user: auth.username ?? '', ok });
      if (!ok) {
        const err = Object.assign(new Error('5.7.8 Authentication credentials invalid'), { responseCode: 535 });
        return callback(err);
      }
      callback(null, { user: auth.username });
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', (err) => callback(err));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        if (failing.remaining > 0) {
          failing.remaining--;
          refused.push({ reply: `${failing.code} ${failing.text}`, raw });
          return callback(Object.assign(new Error(failing.text), { responseCode: failing.code }));
        }
        simpleParser(raw).then(
          (parsed) => {
            const references = parsed.references === undefined ? [] : Array.isArray(parsed.references) ? parsed.references : [parsed.references];
            messages.push({
              envelope: {
                from: session.envelope.mailFrom ? session.envelope.mailFrom.address : null,
                to: session.envelope.rcptTo.map((r) => r.address),
              },
              user: typeof session.user === 'string' ? session.user : null,
              raw,
              headers: parsed.headers,
              subject: parsed.subject ?? null,
              messageId: parsed.messageId ?? null,
              inReplyTo: parsed.inReplyTo ?? null,
              references,
              from: addresses(parsed.from)[0] ?? null,
              to: addresses(parsed.to),
              text: parsed.text ?? null,
              html: typeof parsed.html === 'string' ? parsed.html : null,
            });
            callback(null, `2.0.0 Ok: queued as fake-${messages.length}`);
          },
          (err: Error) => callback(err),
        );
      });
    },
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  const host = '127.0.0.1';

  return {
    host,
    port,
    url: (login) => `smtp://${login ? `${encodeURIComponent(login.user)}:${encodeURIComponent(login.pass)}@` : ''}${host}:${port}`,
    messages,
    refused,
    logins,
    failNext(count, code, text = code >= 500 ? '5.7.1 Message refused' : '4.3.0 Try again later') {
      failing = { remaining: count, code, text };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
