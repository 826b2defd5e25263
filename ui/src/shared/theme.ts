// The OS theme applies through `prefers-color-scheme` in CSS; a "light" or
// "dark" preference overrides it with data-theme on <html>.
import { useEffect } from "react";
import type { ThemePreference } from "./ipc";

const STORAGE_KEY = "sam.theme";

export const THEME_OPTIONS: ReadonlyArray<{ value: ThemePreference; label: string }> = [
  { value: "system", label: "System" },
  { value: "light", label: "Light" },
  { value: "dark", label: "Dark" },
];

export function isThemePreference(value: unknown): value is ThemePreference {
  return value === "system" || value === "light" || value === "dark";
}

export function applyTheme(preference: ThemePreference): void {
  const root = document.documentElement;
  if (preference === "system") {
    delete root.dataset.theme;
  } else {
    root.dataset.theme = preference;
  }
  try {
    localStorage.setItem(STORAGE_KEY, preference);
  } catch {
    // Storage unavailable: the theme still applies for this session.
  }
}

/**
 * Applies the last theme seen, before the first render, so a dark preference
 * does not flash light while the preferences load from the core.
 */
export function applyStoredTheme(): void {
  let stored: string | null = null;
  try {
    stored = localStorage.getItem(STORAGE_KEY);
  } catch {
    return;
  }
  if (isThemePreference(stored)) applyTheme(stored);
}

export function useApplyTheme(preference: ThemePreference | undefined): void {
  useEffect(() => {
    if (preference) applyTheme(preference);
  }, [preference]);
}
