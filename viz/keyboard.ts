// Keyboard stepping. Keys act anywhere on the page except while typing in a field
// (and Space/Enter keep their usual meaning on a focused button).

export interface KeyActions {
  step(by: number): void;
  first(): void;
  last(): void;
  togglePlay(): void;
  focusJump(): void;
  toggleLinks(): void;
}

/** What each key does, for the help line and the README. */
export const KEYS: readonly [string, string][] = [
  ["→ or n", "one operation forward"],
  ["← or p", "one operation back"],
  ["Shift+→ / Shift+←", "ten operations"],
  ["Home / End", "first / last operation"],
  ["Space or k", "play / pause"],
  ["g", "go to an operation number"],
  ["l", "free-list links on / off"],
];

export function bindKeys(actions: KeyActions): void {
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target as HTMLElement;
    if (target.closest("input, select, textarea")) return;
    if (target.closest("button, summary") && (event.key === " " || event.key === "Enter")) return;
    const by = event.shiftKey ? 10 : 1;
    const act: Record<string, () => void> = {
      ArrowRight: () => actions.step(by), n: () => actions.step(1),
      ArrowLeft: () => actions.step(-by), p: () => actions.step(-1),
      Home: actions.first, End: actions.last,
      " ": actions.togglePlay, k: actions.togglePlay,
      g: actions.focusJump, l: actions.toggleLinks,
    };
    const action = act[event.key];
    if (!action) return;
    event.preventDefault();
    action();
  });
}
