import type { ChangeEvent } from "react";
import { usePreferences, useSetPreferences } from "../shared/queries";
import { isThemePreference, THEME_OPTIONS } from "../shared/theme";
import { ErrorAlert } from "../shared/ui";
import { SettingsSection } from "./SettingsSection";

export function AppearanceSection() {
  const preferences = usePreferences();
  const save = useSetPreferences();

  function onThemeChange(event: ChangeEvent<HTMLSelectElement>) {
    const theme = event.target.value;
    if (!isThemePreference(theme)) return;
    save.mutate({ fluidBackground: true, ...preferences.data, theme });
  }

  function onFluidChange(event: ChangeEvent<HTMLInputElement>) {
    save.mutate({ theme: "system", ...preferences.data, fluidBackground: event.target.checked });
  }

  return (
    <SettingsSection id="appearance" title="Appearance">
      <div className="field">
        <label htmlFor="theme-select" className="field__label">
          Theme
        </label>
        <select
          id="theme-select"
          className="select"
          data-testid="theme-select"
          value={preferences.data?.theme ?? "system"}
          onChange={onThemeChange}
          disabled={preferences.isPending}
          aria-describedby="theme-hint"
        >
          {THEME_OPTIONS.map((option) => (
            <option key={option.value} value={option.value}>
              {option.label}
            </option>
          ))}
        </select>
        <p id="theme-hint" className="field__hint muted small">
          System follows your desktop's light or dark setting.
        </p>
      </div>
      <div className="field field--checkbox">
        <label className="checkbox">
          <input
            type="checkbox"
            data-testid="fluid-toggle"
            checked={preferences.data?.fluidBackground ?? true}
            onChange={onFluidChange}
            disabled={preferences.isPending}
            aria-describedby="fluid-hint"
          />
          Animated background behind the chat
        </label>
        <p id="fluid-hint" className="field__hint muted small">
          A fluid simulation that moves while an agent works. Off shows a still gradient and saves power; it is always still when your system asks for reduced motion.
        </p>
      </div>
      {preferences.isError ? <ErrorAlert error={preferences.error} context="Could not load preferences" compact /> : null}
      {save.isError ? <ErrorAlert error={save.error} context="Could not save the theme" compact /> : null}
    </SettingsSection>
  );
}
