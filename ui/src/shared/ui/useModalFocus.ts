import { useEffect, useRef, type KeyboardEvent, type RefObject } from "react";

const FOCUSABLE = 'button:not([disabled]), [href], input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

type ModalFocus = {
  /** What gets focus on open; the first focusable element otherwise. */
  initialFocus?: RefObject<HTMLElement | null>;
  /** Where focus goes on close when the element that had it before is gone. */
  fallbackFocus?: () => HTMLElement | null | undefined;
  onClose: () => void;
};

/**
 * Focus handling of a modal layer (dialogs, the go-to-file finder, the quick view): focus moves
 * in on open, Tab stays inside, Escape closes (marked handled, so the app's own Escape does not
 * also fire), and focus goes back where it was on close. Returns the keydown handler for the
 * layer's element, `ref`.
 */
export function useModalFocus(ref: RefObject<HTMLElement | null>, { initialFocus, fallbackFocus, onClose }: ModalFocus) {
  // Read at unmount, so always the latest.
  const fallbackRef = useRef(fallbackFocus);
  useEffect(() => {
    fallbackRef.current = fallbackFocus;
  });

  useEffect(() => {
    const previous = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    (initialFocus?.current ?? ref.current?.querySelector<HTMLElement>(FOCUSABLE) ?? ref.current)?.focus();
    return () => {
      if (previous?.isConnected) previous.focus();
      else fallbackRef.current?.()?.focus();
    };
    // Only on open and close.
  }, []);

  return function onKeyDown(event: KeyboardEvent<HTMLElement>) {
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
    } else if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  };
}
