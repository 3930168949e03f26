// A description of the machine a figure was measured on, for the result file.
import { cpus, freemem, loadavg, platform, release, totalmem } from 'node:os';

export interface MachineDescription {
  cpus: number;
  cpuModel: string;
  memoryBytes: number;
  freeMemoryBytes: number;
  node: string;
  platform: string;
  /** 1/5/15-minute load averages when the run ended: other work on a shared machine skews wall times. */
  loadAverage: number[];
}

export function describeMachine(): MachineDescription {
  const list = cpus();
  return {
    cpus: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    memoryBytes: totalmem(),
    freeMemoryBytes: freemem(),
    node: process.version,
    platform: `${platform()} ${release()}`,
    loadAverage: loadavg().map((value) => Number(value.toFixed(2))),
  };
}
