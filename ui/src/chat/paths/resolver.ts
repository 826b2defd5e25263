// Which path mentions name files that exist, per workspace. Mentions ask one at a time as they
// render; the asks of one render (a message, or every row a scroll brought in) go to the core as
// one batch. Answers are kept until `invalidate` (the agent finished a turn and may have created
// or deleted files); until the new answer comes the old one stays on screen, so links do not
// flicker.

import type { ResolvedPath } from "../api";

/** Asks the core which candidates exist; returns the ones that do. */
export type ResolvePaths = (candidates: string[]) => Promise<ResolvedPath[]>;

/** `string`: exists, at this workspace-relative path; `null`: does not; `undefined`: not known yet. */
export type Resolution = string | null | undefined;

/** The most candidates one call carries. */
export const RESOLVE_BATCH_LIMIT = 200;

type Entry = { path: string | null; generation: number };

export class PathResolver {
  private readonly entries = new Map<string, Entry>();
  private readonly queued = new Set<string>();
  private readonly inFlight = new Set<string>();
  private readonly listeners = new Set<() => void>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private generation = 0;

  constructor(
    private readonly resolve: ResolvePaths,
    /** How long asks are collected before they go out together. */
    private readonly batchMs = 16,
  ) {}

  /** The answer for `candidate` so far (possibly from before the last invalidate). */
  peek(candidate: string): Resolution {
    return this.entries.get(candidate)?.path;
  }

  /** Bumps on every invalidate: a mention asks again when it changes. */
  readonly version = (): number => this.generation;

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  };

  /** Asks for `candidate` unless its answer is current or already asked for. */
  ensure(candidate: string): void {
    const entry = this.entries.get(candidate);
    if (entry && entry.generation === this.generation) return;
    if (this.queued.has(candidate) || this.inFlight.has(candidate)) return;
    this.queued.add(candidate);
    this.timer ??= setTimeout(() => this.flush(), this.batchMs);
  }

  /** Every answer becomes stale (it is still shown until the new one arrives). */
  invalidate(): void {
    this.generation += 1;
    this.notify();
  }

  /** Stops a pending batch (the view went away). */
  dispose(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.queued.clear();
    this.listeners.clear();
  }

  private flush(): void {
    this.timer = null;
    const candidates = [...this.queued];
    this.queued.clear();
    for (let at = 0; at < candidates.length; at += RESOLVE_BATCH_LIMIT) {
      void this.ask(candidates.slice(at, at + RESOLVE_BATCH_LIMIT));
    }
  }

  private async ask(candidates: string[]): Promise<void> {
    const generation = this.generation;
    candidates.forEach((candidate) => this.inFlight.add(candidate));
    let found = new Map<string, string>();
    try {
      const resolved = await this.resolve(candidates);
      found = new Map(resolved.map(({ requested, path }) => [requested, path]));
    } catch {
      // The workspace could not be asked (offline, gone): nothing becomes a link until the next
      // turn asks again.
    }
    candidates.forEach((candidate) => this.inFlight.delete(candidate));
    for (const candidate of candidates) {
      // An answer to an older question still beats no answer, but stays stale.
      this.entries.set(candidate, { path: found.get(candidate) ?? null, generation });
    }
    this.notify();
    if (generation !== this.generation) {
      // Invalidated while asking: those still on screen ask again.
      for (const candidate of candidates) this.ensure(candidate);
    }
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}
