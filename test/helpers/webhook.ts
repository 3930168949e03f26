// A local alert webhook (node:http on 127.0.0.1): records every POSTed JSON body, answers 200.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Webhook {
  url: string;
  received: unknown[];
  close(): Promise<void>;
}

export async function startWebhook(): Promise<Webhook> {
  const received: unknown[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      response.end('ok');
    });
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}
