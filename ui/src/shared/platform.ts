/** True on macOS, where shortcuts use Cmd instead of Ctrl. */
export function isMac(): boolean {
  return typeof navigator !== "undefined" && /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);
}

export function modifierLabel(): string {
  return isMac() ? "⌘" : "Ctrl";
}
