import { useSendTestNotification } from "../shared/queries";
import { Button } from "../shared/ui";
import { SettingsSection } from "./SettingsSection";

export function NotificationsSection() {
  const send = useSendTestNotification();

  return (
    <SettingsSection
      id="notifications"
      title="Notifications"
      description="SAM notifies you when an agent finishes or needs your input."
    >
      <div className="inline-row">
        <Button data-testid="send-test-notification" onClick={() => send.mutate()} disabled={send.isPending}>
          {send.isPending ? "Sending…" : "Send a test notification"}
        </Button>
        {send.isSuccess ? (
          <p className="inline-result inline-result--ok" role="status" data-testid="test-notification-result">
            Sent. It should appear in your desktop's notification area.
          </p>
        ) : null}
        {send.isError ? (
          <p className="inline-result inline-result--error" role="alert" data-testid="test-notification-result">
            {send.error.message}
          </p>
        ) : null}
      </div>
    </SettingsSection>
  );
}
