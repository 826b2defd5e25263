// Same signal as SAM's UI: report the first render once the page has painted.
requestAnimationFrame(() => window.__TAURI__.core.invoke("ready"));
