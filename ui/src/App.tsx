import { useQuery } from "@tanstack/react-query";
import { useEffect, useRef, useState, type MouseEvent } from "react";
import { AboutView } from "./about/AboutView";
import { ChatView } from "./chat/ChatView";
import { ipcChatApi } from "./chat/ipcChatApi";
import { CredentialsView } from "./credentials/CredentialsView";
import { ChatFluidBackground } from "./features/fluid/ChatFluidBackground";
import { SettingsView } from "./settings/SettingsView";
import { chatSessions, notifyUiReady } from "./shared/ipc";
import { usePreferences } from "./shared/queries";
import { useUiStore, type View } from "./shared/store";
import { useApplyTheme } from "./shared/theme";
import { LogoMark } from "./shared/ui";
import { DatabaseBanner } from "./shell/DatabaseBanner";
import { Navigation } from "./shell/Navigation";
import { useShortcuts } from "./shell/useShortcuts";
import { WorkspaceList } from "./workspaces/WorkspaceList";
import { WorkspaceView } from "./workspaces/WorkspaceView";
import { GoToFile, useGoToFileShortcut } from "./features/goto/GoToFile";
import { useAttentionPoll } from "./features/attention/attention";
import { NeedsYouView } from "./features/attention/NeedsYouView";
import { QuitDialog } from "./features/attention/QuitDialog";
import { useChatStore } from "./chat/store";
import { attentionSetView } from "./shared/ipc";

/** The chat: its introduction until there is something to talk to (a picked workspace or an
 * earlier chat), then the live chat over the core. */
function ChatArea({ workspaceId }: { workspaceId: string | null }) {
  const sessions = useQuery({ queryKey: ["chat-sessions-any"], queryFn: () => chatSessions(null), retry: false });
  const hasChats = (sessions.data?.length ?? 0) > 0;
  if (workspaceId === null && !hasChats) return <ChatView />;
  return <ChatView api={ipcChatApi} workspaceId={workspaceId} />;
}

function CurrentView({ view }: { view: View }) {
  const workspaceId = useUiStore((state) => state.workspaceId);
  switch (view) {
    case "workspace":
      return workspaceId === null ? <ChatArea workspaceId={null} /> : <WorkspaceView key={workspaceId} id={workspaceId} />;
    case "chat":
      return <ChatArea workspaceId={workspaceId} />;
    case "needs-you":
      return <NeedsYouView />;
    case "credentials":
      return <CredentialsView />;
    case "settings":
      return <SettingsView />;
    case "about":
      return <AboutView />;
  }
}

export function App() {
  const view = useUiStore((state) => state.view);
  const workspaceId = useUiStore((state) => state.workspaceId);
  // The fluid shows behind the chat (and its introduction), not behind the other views.
  const chatOnScreen = view === "chat" || (view === "workspace" && workspaceId === null);
  const preferences = usePreferences();
  const mainRef = useRef<HTMLElement>(null);

  useApplyTheme(preferences.data?.theme);
  useShortcuts();
  // The "needs you" queue, and the chat on screen (no notification for the chat being read).
  useAttentionPoll();
  const openSessionId = useChatStore((state) => state.openSessionId);
  const sessionOnScreen = chatOnScreen ? openSessionId : null;
  useEffect(() => {
    attentionSetView(sessionOnScreen).catch(() => undefined);
  }, [sessionOnScreen]);
  // Ctrl/Cmd+P: go to a file of the selected workspace.
  const [goToOpen, setGoToOpen] = useState(false);
  useGoToFileShortcut(() => setGoToOpen(true));

  // Start-up benchmark marker: once, after the shell first rendered.
  const readySent = useRef(false);
  useEffect(() => {
    if (readySent.current) return;
    readySent.current = true;
    void notifyUiReady();
  }, []);

  // When a view change removed the focused element (e.g. Escape from a
  // settings control), put focus at the start of the main area.
  const previousView = useRef(view);
  useEffect(() => {
    if (previousView.current === view) return;
    previousView.current = view;
    if (document.activeElement === document.body) mainRef.current?.focus();
  }, [view]);

  function skipToMain(event: MouseEvent<HTMLAnchorElement>) {
    event.preventDefault();
    mainRef.current?.focus();
  }

  return (
    <div className="app-shell" data-testid="app-shell">
      <a className="skip-link" href="#main-content" onClick={skipToMain}>
        Skip to main content
      </a>
      <aside className="sidebar" data-testid="sidebar" aria-label="Sidebar">
        <div className="brand">
          <LogoMark className="logo-mark" />
          <span className="brand__name">SAM</span>
        </div>
        <WorkspaceList />
        <Navigation />
      </aside>
      <main id="main-content" className="main" ref={mainRef} tabIndex={-1}>
        <ChatFluidBackground active={chatOnScreen} enabled={preferences.data?.fluidBackground !== false} />
        <DatabaseBanner />
        <CurrentView view={view} />
        <GoToFile api={ipcChatApi} workspaceId={workspaceId} open={goToOpen} onClose={() => setGoToOpen(false)} />
        <QuitDialog />
      </main>
    </div>
  );
}
