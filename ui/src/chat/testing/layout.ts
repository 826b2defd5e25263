// jsdom lays nothing out: every size is 0, so a virtualised list would show nothing. This gives
// the transcript a viewport and each row a height, and returns the undo.
type Options = { viewport?: number; rowHeight?: number; width?: number };

export function installFakeLayout({ viewport = 600, rowHeight = 60, width = 800 }: Options = {}): () => void {
  const undo: (() => void)[] = [];
  const stub = (property: string, get: (this: HTMLElement) => number) => {
    const own = Object.getOwnPropertyDescriptor(HTMLElement.prototype, property);
    Object.defineProperty(HTMLElement.prototype, property, { configurable: true, get });
    undo.push(() => {
      if (own) Object.defineProperty(HTMLElement.prototype, property, own);
      else delete (HTMLElement.prototype as unknown as Record<string, unknown>)[property];
    });
  };
  const isScroller = (element: HTMLElement) => element.classList.contains("chat-transcript__scroller");
  stub("clientHeight", function () {
    return isScroller(this) ? viewport : 0;
  });
  stub("clientWidth", function () {
    return isScroller(this) ? width : 0;
  });
  stub("offsetHeight", function () {
    return this.hasAttribute("data-index") ? rowHeight : 0;
  });
  stub("scrollHeight", function () {
    if (!isScroller(this)) return 0;
    const inner = this.firstElementChild as HTMLElement | null;
    return Math.max(viewport, Number.parseFloat(inner?.style.height ?? "0") || 0);
  });
  // Scrolling: clamped like a browser's, and announced with a scroll event (jsdom sends none).
  const tops = new WeakMap<HTMLElement, number>();
  const ownTop = Object.getOwnPropertyDescriptor(Element.prototype, "scrollTop")!;
  Object.defineProperty(HTMLElement.prototype, "scrollTop", {
    configurable: true,
    get(this: HTMLElement) {
      return isScroller(this) ? (tops.get(this) ?? 0) : (ownTop.get!.call(this) as number);
    },
    set(this: HTMLElement, value: number) {
      if (!isScroller(this)) {
        ownTop.set!.call(this, value);
        return;
      }
      const max = Math.max(0, this.scrollHeight - this.clientHeight);
      const next = Math.min(max, Math.max(0, value));
      if (next === (tops.get(this) ?? 0)) return;
      tops.set(this, next);
      queueMicrotask(() => this.dispatchEvent(new Event("scroll")));
    },
  });
  undo.push(() => {
    delete (HTMLElement.prototype as unknown as Record<string, unknown>).scrollTop;
  });
  return () => undo.reverse().forEach((restore) => restore());
}
