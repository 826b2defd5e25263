import type { KeyboardEvent, ReactNode } from "react";
import { modifierLabel } from "../shared/platform";
import { useUiStore, type View } from "../shared/store";
import { AlertIcon, ChatIcon, InfoIcon, KeyIcon, SettingsIcon } from "../shared/ui";
import { useNeedsYouCount } from "../features/attention/attention";

type NavItem = { view: View; label: string; icon: ReactNode; shortcut?: string };

export function Navigation() {
  const view = useUiStore((state) => state.view);
  const setView = useUiStore((state) => state.setView);
  const mod = modifierLabel();
  const needsYou = useNeedsYouCount();

  const items: NavItem[] = [
    { view: "chat", label: "Chat", icon: <ChatIcon />, shortcut: `${mod}+1` },
    { view: "needs-you", label: "Needs you", icon: <AlertIcon /> },
    { view: "credentials", label: "Credentials", icon: <KeyIcon />, shortcut: `${mod}+2` },
    { view: "settings", label: "Settings", icon: <SettingsIcon />, shortcut: `${mod}+,` },
    { view: "about", label: "About", icon: <InfoIcon /> },
  ];

  // Arrow keys, Home and End move focus between the items; Tab still reaches
  // each of them too.
  function onKeyDown(event: KeyboardEvent<HTMLElement>) {
    const buttons = Array.from(event.currentTarget.querySelectorAll<HTMLButtonElement>("button"));
    const index = buttons.findIndex((button) => button === document.activeElement);
    if (index === -1) return;
    let next: number;
    switch (event.key) {
      case "ArrowDown":
      case "ArrowRight":
        next = (index + 1) % buttons.length;
        break;
      case "ArrowUp":
      case "ArrowLeft":
        next = (index - 1 + buttons.length) % buttons.length;
        break;
      case "Home":
        next = 0;
        break;
      case "End":
        next = buttons.length - 1;
        break;
      default:
        return;
    }
    event.preventDefault();
    buttons[next]?.focus();
  }

  return (
    <nav className="nav" aria-label="Main" onKeyDown={onKeyDown}>
      <ul className="nav__list">
        {items.map((item) => (
          <li key={item.view}>
            <button
              type="button"
              className="nav__item"
              data-testid={`nav-${item.view}`}
              aria-current={view === item.view ? "page" : undefined}
              aria-keyshortcuts={item.shortcut?.replace("⌘", "Meta").replace("Ctrl", "Control")}
              onClick={() => setView(item.view)}
            >
              <span className="nav__icon">{item.icon}</span>
              <span className="nav__label">{item.label}</span>
              {item.view === "needs-you" && needsYou > 0 ? (
                <span className="nav__badge" data-testid="needs-you-count" aria-label={`${needsYou} waiting`}>
                  {needsYou}
                </span>
              ) : null}
              {item.shortcut ? (
                <kbd className="nav__shortcut" aria-hidden="true">
                  {item.shortcut}
                </kbd>
              ) : null}
            </button>
          </li>
        ))}
      </ul>
    </nav>
  );
}
