import type { ReactNode } from "react";

type SettingsSectionProps = { id: string; title: string; description?: string; children: ReactNode };

export function SettingsSection({ id, title, description, children }: SettingsSectionProps) {
  const headingId = `settings-${id}-heading`;
  return (
    <section className="card settings__section" aria-labelledby={headingId}>
      <h2 id={headingId} className="card__title">
        {title}
      </h2>
      {description ? <p className="card__description muted">{description}</p> : null}
      {children}
    </section>
  );
}
