/**
 * A fixed pool of long-lived Web Workers (starting one costs tens of ms, so
 * they are made once and fed batches). Tasks queue until a worker is idle;
 * buffers are transferred, not copied.
 *
 * @module
 */

/** The envelope a pooled worker receives. */
export interface TaskMessage<P = unknown> {
  /** Task id, echoed in the reply. */
  readonly id: number;
  /** The task's payload. */
  readonly payload: P;
}

/** The envelope a pooled worker replies with. */
export interface TaskReply<R = unknown> {
  /** The task id. */
  readonly id: number;
  /** The result, when it succeeded. */
  readonly result?: R;
  /** The error message, when it failed. */
  readonly error?: string;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

interface Queued {
  message: TaskMessage;
  transfer: Transferable[];
  pending: Pending;
}

/** How many workers to start by default: one per core, at least one. */
export function defaultPoolSize(): number {
  return Math.max(1, Math.min(8, navigator.hardwareConcurrency || 2));
}

/** A pool of module workers that all run the same script. */
export class WorkerPool {
  #workers: Worker[] = [];
  #idle: Worker[] = [];
  #queue: Queued[] = [];
  #pending = new Map<number, Pending>();
  #busy = new Map<Worker, number>();
  #nextId = 1;
  #closed = false;

  /**
   * Starts `size` workers from `moduleUrl`; each first receives `init` as an
   * ordinary task (so it can load plugins by name before any batch).
   */
  constructor(
    moduleUrl: string | URL,
    size = defaultPoolSize(),
    init?: unknown,
  ) {
    for (let k = 0; k < size; k++) {
      const worker = new Worker(moduleUrl, { type: "module" });
      worker.onmessage = (e: MessageEvent<TaskReply>) =>
        this.#reply(worker, e.data);
      worker.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        this.#fail(worker, new Error(`worker crashed: ${e.message}`));
      };
      this.#workers.push(worker);
      this.#idle.push(worker);
    }
    if (init !== undefined) {
      // Every worker must see init before its first task: queue one per worker
      // directly, bypassing the shared queue.
      for (const w of this.#workers) {
        const id = this.#nextId++;
        this.#idle.splice(this.#idle.indexOf(w), 1);
        this.#busy.set(w, id);
        const p = new Promise((resolve, reject) =>
          this.#pending.set(id, { resolve, reject })
        );
        p.catch(() => {}); // surfaced by the next task on this worker
        w.postMessage({ id, payload: init });
      }
    }
  }

  /** Number of workers. */
  get size(): number {
    return this.#workers.length;
  }

  /** Runs one task on the next idle worker. */
  run<R>(payload: unknown, transfer: Transferable[] = []): Promise<R> {
    if (this.#closed) return Promise.reject(new Error("worker pool is closed"));
    const id = this.#nextId++;
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({
        message: { id, payload },
        transfer,
        pending: { resolve: resolve as (v: unknown) => void, reject },
      });
      this.#dispatch();
    });
  }

  /** Stops every worker; pending tasks reject. */
  terminate(): void {
    this.#closed = true;
    for (const w of this.#workers) w.terminate();
    const err = new Error("worker pool terminated");
    for (const p of this.#pending.values()) p.reject(err);
    for (const q of this.#queue) q.pending.reject(err);
    this.#pending.clear();
    this.#queue = [];
  }

  #dispatch(): void {
    while (this.#idle.length > 0 && this.#queue.length > 0) {
      const worker = this.#idle.shift()!;
      const task = this.#queue.shift()!;
      this.#pending.set(task.message.id, task.pending);
      this.#busy.set(worker, task.message.id);
      worker.postMessage(task.message, task.transfer);
    }
  }

  #reply(worker: Worker, reply: TaskReply): void {
    const pending = this.#pending.get(reply.id);
    this.#pending.delete(reply.id);
    this.#busy.delete(worker);
    this.#idle.push(worker);
    if (pending) {
      if (reply.error !== undefined) pending.reject(new Error(reply.error));
      else pending.resolve(reply.result);
    }
    this.#dispatch();
  }

  #fail(worker: Worker, err: Error): void {
    const id = this.#busy.get(worker);
    if (id !== undefined) {
      this.#pending.get(id)?.reject(err);
      this.#pending.delete(id);
    }
    this.terminate();
  }
}

/**
 * The worker side: answers each task with `handler(payload)`, transferring
 * whatever `handler` lists. Use inside a worker module.
 */
export function serveTasks<P, R>(
  handler: (payload: P) => Promise<{ result: R; transfer?: Transferable[] }>,
): void {
  // deno-lint-ignore no-explicit-any
  const scope = self as any;
  scope.onmessage = async (e: MessageEvent<TaskMessage<P>>) => {
    const { id, payload } = e.data;
    try {
      const { result, transfer } = await handler(payload);
      scope.postMessage({ id, result }, transfer ?? []);
    } catch (err) {
      scope.postMessage({
        id,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  };
}
