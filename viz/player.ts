// Play: step forward on a timer at the chosen speed, until the end of the trace or a pause.

export interface PlayerHooks {
  /** Operations done, and operations in the trace. */
  position(): { step: number; total: number };
  /** True while the heaps are still busy with the last change: the timer waits for them. */
  busy(): boolean;
  step(by: number): void;
  /** Back to the first operation; resolves when there. */
  restart(): Promise<void>;
}

export class Player {
  private timer: ReturnType<typeof setInterval> | undefined;
  /** False while a restart from the end is on its way: the end is not the end then. */
  private ready = true;

  constructor(private readonly button: HTMLButtonElement, private readonly hooks: PlayerHooks) {}

  get playing(): boolean { return this.timer !== undefined; }

  /** Start at `opsPerSecond`; from the first operation when at the end. */
  start(opsPerSecond: number): void {
    this.stop();
    const { step, total } = this.hooks.position();
    if (step >= total) {
      this.ready = false;
      void this.hooks.restart().finally(() => { this.ready = true; });
    }
    // At most ~30 redraws a second; faster speeds do several operations per redraw.
    const interval = Math.max(33, 1000 / opsPerSecond);
    const perTick = Math.max(1, Math.round((opsPerSecond * interval) / 1000));
    this.timer = setInterval(() => {
      if (!this.ready || this.hooks.busy()) return;
      const now = this.hooks.position();
      if (now.step >= now.total) { this.stop(); return; }
      this.hooks.step(perTick);
    }, interval);
    this.button.textContent = "❚❚ Pause";
    this.button.setAttribute("aria-pressed", "true");
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.button.textContent = "▶ Play";
    this.button.setAttribute("aria-pressed", "false");
  }

  toggle(opsPerSecond: number): void {
    if (this.playing) this.stop();
    else this.start(opsPerSecond);
  }
}
