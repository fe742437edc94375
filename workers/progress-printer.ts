import type { ProgressView } from './progress-format.ts';

/** Where progress goes: a terminal (redrawn in place) or a pipe or file (appended at milestones). */
export interface ProgressOutput {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/**
 * Prints progress views as `sptar start` follows a run. On a terminal the current stage's block is redrawn in place
 * (each line cut to the terminal width, so the cursor arithmetic holds) and left on screen when the stage changes;
 * in a log the block is appended whenever its milestone changes, so a transcript shows each stage's progress in
 * tenths without a line per second.
 */
export class ProgressPrinter {
  private shown = 0;
  private lastText: string | undefined;
  private lastMilestone: string | undefined;
  private section: string | undefined;

  constructor(private readonly out: ProgressOutput) {}

  update(view: ProgressView): void {
    if (this.out.isTTY) {
      const width = Math.max(20, (this.out.columns ?? 120) - 1);
      const text = view.lines.map((l) => (l.length > width ? `${l.slice(0, width - 1)}…` : l)).join('\n');
      if (view.section !== this.section) {
        // The last view of the previous stage stays on screen; the new stage starts below it.
        this.shown = 0;
        this.section = view.section;
      } else if (text === this.lastText) return;
      // Up to the first line of the block, clear to the end of the screen, draw again.
      if (this.shown > 0) this.out.write(`\x1b[${this.shown}F\x1b[J`);
      this.out.write(`${text}\n`);
      this.shown = view.lines.length;
      this.lastText = text;
    } else {
      if (view.milestone === this.lastMilestone) return;
      this.out.write(`${view.lines.join('\n')}\n`);
    }
    this.lastMilestone = view.milestone;
  }

  /** Leaves the block as it is: whatever is printed next goes below it. */
  end(): void {
    this.shown = 0;
    this.section = undefined;
    this.lastText = undefined;
    this.lastMilestone = undefined;
  }
}
