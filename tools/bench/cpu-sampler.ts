// Where the cores went during a bench: every 250 ms, the worker process's CPU time (/proc/<pid>/stat, all its
// threads: DuckDB, libxgboost, onnxruntime) and the whole machine's busy time (/proc/stat), so that a span of the run
// (staging, the months' ETL, training, …) can say how many cores the worker used and how many were busy at all: a
// worker below the cores with the machine idle is a serial stretch, a busy machine is contention.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** Linux's USER_HZ: the unit of /proc's CPU times (100 on every mainstream kernel configuration). */
const TICKS_PER_SECOND = 100;

interface CpuSample {
  at: number;
  /** Seconds of CPU the process used since it started. */
  process: number;
  /** Seconds of CPU the machine spent busy (not idle or waiting for I/O) since boot, all cores summed. */
  machine: number;
}

export interface SpanCpu {
  wall: number;
  /** CPU seconds of the worker in the span, and that over the wall: cores it kept busy on average. */
  workerCpu: number;
  workerCores: number;
  /** The machine's busy cores on average (the worker, the dev server, the bench, anything else running). */
  machineCores: number;
  cores: number;
}

/** Seconds of CPU process `pid` used since it started (all its threads); null when it is gone or not Linux. */
export function processCpuSeconds(pid: number): number | null {
  try {
    // Fields after the command (which is in parentheses and may hold spaces): utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

function machineBusySeconds(): number | null {
  try {
    const [, ...times] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
    // user nice system idle iowait irq softirq steal …: busy = all but idle and iowait.
    const total = times.slice(0, 8).reduce((sum, value) => sum + value, 0);
    return (total - times[3] - times[4]) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

export interface CpuSampler {
  stop(): void;
  /** CPU of the worker and the machine between two epoch-ms times (the nearest samples around them). */
  span(from: number, to: number): SpanCpu | null;
}

export function sampleCpu(pid: number, everyMs = 250): CpuSampler {
  const samples: CpuSample[] = [];
  const take = () => {
    const process = processCpuSeconds(pid);
    const machine = machineBusySeconds();
    if (process !== null && machine !== null) samples.push({ at: Date.now(), process, machine });
  };
  take();
  const timer = setInterval(take, everyMs);
  timer.unref();
  const nearest = (at: number) => samples.reduce((best, sample) => (Math.abs(sample.at - at) < Math.abs(best.at - at) ? sample : best));
  return {
    stop: () => clearInterval(timer),
    span: (from, to) => {
      if (samples.length < 2 || !(to > from)) return null;
      const [start, end] = [nearest(from), nearest(to)];
      const wall = (end.at - start.at) / 1000;
      if (wall <= 0) return null;
      const round = (value: number) => Number(value.toFixed(2));
      return {
        wall: round(wall),
        workerCpu: round(end.process - start.process),
        workerCores: round((end.process - start.process) / wall),
        machineCores: round((end.machine - start.machine) / wall),
        cores: availableParallelism(),
      };
    },
  };
}
