import { useUiStore } from "../shared/store";
import { Button, KeyIcon } from "../shared/ui";
import { SettingsSection } from "./SettingsSection";

export function CredentialsSection() {
  const setView = useUiStore((state) => state.setView);
  return (
    <SettingsSection id="credentials" title="Credentials">
      <p className="muted">
        Your cloud accounts, agent API keys and source-control tokens are kept in your operating system's keyring, never
        in plain files, and are never shown again once saved.
      </p>
      <div className="inline-row">
        <Button data-testid="open-credentials" onClick={() => setView("credentials")}>
          <KeyIcon /> Manage credentials
        </Button>
      </div>
    </SettingsSection>
  );
}
