import { useEffect, useId, useRef, type KeyboardEvent, type ReactNode, type RefObject } from "react";

type DialogProps = {
  title: string;
  children?: ReactNode;
  /** The buttons, last in the tab order. */
  actions: ReactNode;
  /** Called on Escape (and by the caller's own cancel button). */
  onClose: () => void;
  /** "alertdialog" for confirmations of destructive actions. */
  role?: "dialog" | "alertdialog";
  /** What gets focus when the dialog opens; the first focusable element otherwise. */
  initialFocus?: RefObject<HTMLElement | null>;
  /** Where focus goes on close when the element that had it before is gone. */
  fallbackFocus?: () => HTMLElement | null | undefined;
  /** The id of what describes the dialog; its whole body when not given (set it for forms). */
  describedBy?: string;
  /** "wide" for forms. */
  size?: "normal" | "wide";
  "data-testid"?: string;
};

const FOCUSABLE = 'button:not([disabled]), [href], input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/**
 * A modal dialog: focus moves into it, Tab stays inside it, Escape closes it, and focus returns
 * to where it was (or to `fallbackFocus`) when it closes.
 */
export function Dialog({
  title,
  children,
  actions,
  onClose,
  role = "dialog",
  initialFocus,
  fallbackFocus,
  size = "normal",
  describedBy,
  ...rest
}: DialogProps) {
  const ref = useRef<HTMLDivElement>(null);
  const titleId = useId();
  const bodyId = useId();
  // Read at unmount, so always the latest.
  const fallbackRef = useRef(fallbackFocus);
  useEffect(() => {
    fallbackRef.current = fallbackFocus;
  });

  useEffect(() => {
    const previous = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const target = initialFocus?.current ?? ref.current?.querySelector<HTMLElement>(FOCUSABLE) ?? ref.current;
    target?.focus();
    return () => {
      if (previous?.isConnected) previous.focus();
      else fallbackRef.current?.()?.focus();
    };
    // Only on open and close.
  }, []);

  function onKeyDown(event: KeyboardEvent<HTMLDivElement>) {
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      onClose();
      return;
    }
    if (event.key !== "Tab" || !ref.current) return;
    const focusable = Array.from(ref.current.querySelectorAll<HTMLElement>(FOCUSABLE));
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (!first || !last) {
      event.preventDefault();
      return;
    }
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  }

  return (
    <div className="dialog-backdrop">
      <div
        ref={ref}
        className={size === "wide" ? "dialog dialog--wide" : "dialog"}
        role={role}
        aria-modal="true"
        aria-labelledby={titleId}
        aria-describedby={describedBy ?? (children ? bodyId : undefined)}
        tabIndex={-1}
        onKeyDown={onKeyDown}
        data-testid={rest["data-testid"]}
      >
        <h2 id={titleId} className="dialog__title">
          {title}
        </h2>
        {children ? (
          <div id={bodyId} className="dialog__body">
            {children}
          </div>
        ) : null}
        <div className="dialog__actions">{actions}</div>
      </div>
    </div>
  );
}
