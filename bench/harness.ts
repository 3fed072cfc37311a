// A small, careful measuring loop: warm-up, calibration to a fixed sample length, then
// samples taken round-robin across the tasks of a group (so a burst of load from another
// process on this shared machine lands on every task alike), and the median of them.
//
// Each sample records the wall time and the process's CPU time (user + system). µs/op and
// the ratios use the wall clock, what a request waits for. The CPU time is kept alongside:
// it also counts V8's helper threads (parallel and concurrent GC), so it charges allocation
// more than the wall clock of an idle 2-core machine does, and it leaves out time spent
// waiting for a core when the machine is busy.

/** One thing to measure. `run` is called in a tight loop; a promise is awaited. */
export interface Task {
  readonly name: string;
  /** Sync tasks are looped without `await`; async ones with it (as a caller would). */
  readonly kind: "sync" | "async";
  readonly run: () => unknown;
  /** Throws unless one run does what the row claims (e.g. verifies, or rejects with the right code). */
  readonly check: () => Promise<void> | void;
}

export interface Measurement {
  readonly name: string;
  /** Median wall-clock nanoseconds per operation over the samples. */
  readonly nsPerOp: number;
  readonly opsPerSecond: number;
  /** Median process CPU nanoseconds per operation (all threads of the process). */
  readonly cpuNsPerOp: number;
  /** Interquartile range of the per-sample ns/op over the median, in percent: how noisy the samples were. */
  readonly spreadPercent: number;
  /** Wall ns/op of each sample, in round order: sample i of every task of a group ran in the same round. */
  readonly perSample: readonly number[];
  readonly iterationsPerSample: number;
}

export interface HarnessOptions {
  /** @default 15 */
  readonly samples?: number;
  /** Target length of one sample. @default 80 */
  readonly sampleMs?: number;
  /** Warm-up per task before calibration. @default 400 */
  readonly warmupMs?: number;
}

/** Linear-interpolated quantile, q in [0, 1]. */
function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  return sorted[lo]! + (sorted[Math.min(lo + 1, sorted.length - 1)]! - sorted[lo]!) * (at - lo);
}

export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/**
 * The cost of `m` relative to `base`: the median over rounds of the ratio of the two
 * samples taken in the same round. Load from other processes comes and goes; samples of
 * one round saw about the same load, so their ratio keeps its meaning when the raw
 * numbers do not.
 */
export function ratio(m: Measurement, base: Measurement): number {
  return median(m.perSample.map((ns, i) => ns / base.perSample[i]!));
}

const gc = (globalThis as { gc?: () => void }).gc;

// Results land here so the optimiser cannot drop the work.
let sink: unknown;
export function blackhole(): unknown {
  return sink;
}

interface Elapsed {
  readonly cpuNs: number;
  readonly wallNs: number;
}

async function loop(task: Task, iterations: number): Promise<Elapsed> {
  const { run } = task;
  const wall = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  if (task.kind === "sync") {
    for (let i = 0; i < iterations; i++) {
      try {
        sink = run();
      } catch (error) {
        sink = error;
      }
    }
  } else {
    for (let i = 0; i < iterations; i++) {
      try {
        sink = await run();
      } catch (error) {
        sink = error;
      }
    }
  }
  const used = process.cpuUsage(cpu);
  return { cpuNs: (used.user + used.system) * 1000, wallNs: Number(process.hrtime.bigint() - wall) };
}

/** Measures a group of tasks against each other. */
export async function measure(tasks: readonly Task[], options: HarnessOptions = {}): Promise<Measurement[]> {
  const { samples = 15, sampleMs = 80, warmupMs = 400 } = options;
  for (const task of tasks) await task.check();

  const iterations: number[] = [];
  for (const task of tasks) {
    // Warm up until the JIT has settled, then size a sample to about sampleMs.
    let n = 16;
    let spent = 0;
    const deadline = warmupMs * 1e6;
    while (spent < deadline) {
      spent += (await loop(task, n)).wallNs;
      if (spent < deadline / 8) n *= 2;
    }
    const ns = (await loop(task, n)).wallNs / n;
    iterations.push(Math.max(16, Math.round((sampleMs * 1e6) / ns)));
  }

  const cpu: number[][] = tasks.map(() => []);
  const wall: number[][] = tasks.map(() => []);
  for (let s = 0; s < samples; s++) {
    // Rotate the starting task so none always runs right after a gc() or first in a round.
    for (let k = 0; k < tasks.length; k++) {
      const i = (s + k) % tasks.length;
      gc?.();
      const { cpuNs, wallNs } = await loop(tasks[i]!, iterations[i]!);
      cpu[i]!.push(cpuNs / iterations[i]!);
      wall[i]!.push(wallNs / iterations[i]!);
    }
  }

  return tasks.map((task, i) => {
    const values = wall[i]!;
    const nsPerOp = median(values);
    return {
      name: task.name,
      nsPerOp,
      opsPerSecond: 1e9 / nsPerOp,
      cpuNsPerOp: median(cpu[i]!),
      spreadPercent: ((quantile(values, 0.75) - quantile(values, 0.25)) / nsPerOp) * 100,
      perSample: values,
      iterationsPerSample: iterations[i]!,
    };
  });
}
