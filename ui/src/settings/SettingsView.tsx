import { AppearanceSection } from "./AppearanceSection";
import { BudgetSection } from "./BudgetSection";
import { CredentialsSection } from "./CredentialsSection";
import { DiagnosticsSection } from "./DiagnosticsSection";
import { EditorSection } from "./EditorSection";
import { IdlePolicySection } from "./IdlePolicySection";
import { NotificationsSection } from "./NotificationsSection";
import { VoiceSection } from "./VoiceSection";

export function SettingsView() {
  return (
    <section className="view" aria-labelledby="settings-heading" data-testid="settings-view">
      <header className="view__header">
        <h1 id="settings-heading" className="view__title">
          Settings
        </h1>
        <p className="view__hint muted small">Press Escape to go back to the chat.</p>
      </header>
      <div className="view__body settings">
        <AppearanceSection />
        <CredentialsSection />
        <BudgetSection />
        <IdlePolicySection />
        <EditorSection />
        <VoiceSection />
        <NotificationsSection />
        <DiagnosticsSection />
      </div>
    </section>
  );
}
