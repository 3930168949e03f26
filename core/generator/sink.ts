// A buffered CSV file sink with backpressure, written to a temporary name and renamed into place on commit,
// so a failed or interrupted run never leaves a half-written source file behind.
import { createWriteStream, type WriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { once } from 'node:events';

const FLUSH_AT = 256 * 1024;

export class CsvSink {
  private readonly stream: WriteStream;
  private readonly temporary: string;
  private buffer = '';
  private failure: Error | null = null;

  constructor(private readonly destination: string, header: string, tag: string) {
    this.temporary = `${destination}.${tag}.tmp`;
    this.stream = createWriteStream(this.temporary, { encoding: 'utf8' });
    this.stream.on('error', (error) => {
      this.failure = error;
    });
    this.buffer = `${header}\n`;
  }

  /** Appends text; resolves at once unless the buffer was handed to a stream that asked to wait. */
  async write(text: string): Promise<void> {
    this.buffer += text;
    if (this.buffer.length >= FLUSH_AT) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.failure) throw this.failure;
    const chunk = this.buffer;
    this.buffer = '';
    if (!this.stream.write(chunk)) await once(this.stream, 'drain');
  }

  /** Writes what is left, closes the file and renames it over the destination. */
  async commit(): Promise<void> {
    await this.flush();
    this.stream.end();
    await once(this.stream, 'finish');
    if (this.failure) throw this.failure;
    await rename(this.temporary, this.destination);
  }

  async abort(): Promise<void> {
    this.stream.destroy();
    await rm(this.temporary, { force: true });
  }
}
