/**
 * The widget's styles, adopted by its shadow root only. `all: initial` on the host stops
 * the page's inherited properties (font, colour, line height, text alignment…) at the
 * widget's edge; nothing here can select outside the shadow root. The page themes the
 * widget through the custom properties below (they do inherit, by design) and `::part`.
 */
export const WIDGET_CSS = `
:host {
  all: initial;
  display: block;
  box-sizing: border-box;
  max-width: 36rem;
  --_accent: var(--cerberus-accent, #2f4fd6);
  --_on-accent: var(--cerberus-on-accent, #ffffff);
  --_bg: var(--cerberus-background, #ffffff);
  --_fg: var(--cerberus-foreground, #1d2228);
  --_muted: var(--cerberus-muted, #56606b);
  --_border: var(--cerberus-border, #c9d1da);
  --_soft: var(--cerberus-soft, #f3f5f8);
  --_danger: var(--cerberus-danger, #b42318);
  --_radius: var(--cerberus-radius, 10px);
  font-family: var(--cerberus-font, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif);
  font-size: 14px;
  line-height: 1.45;
  color: var(--_fg);
}
:host([hidden]) { display: none; }
@media (prefers-color-scheme: dark) {
  :host {
    --_accent: var(--cerberus-accent, #8aa2ff);
    --_on-accent: var(--cerberus-on-accent, #0d1117);
    --_bg: var(--cerberus-background, #15191e);
    --_fg: var(--cerberus-foreground, #e6e9ed);
    --_muted: var(--cerberus-muted, #a3adb8);
    --_border: var(--cerberus-border, #39424d);
    --_soft: var(--cerberus-soft, #1e242b);
    --_danger: var(--cerberus-danger, #ff8c82);
  }
}
*, *::before, *::after { box-sizing: inherit; }
.frame {
  display: flex;
  flex-direction: column;
  gap: 8px;
  padding: 12px;
  background: var(--_bg);
  border: 1px solid var(--_border);
  border-radius: var(--_radius);
}
.head { display: flex; align-items: baseline; justify-content: space-between; gap: 8px; flex-wrap: wrap; }
.title { margin: 0; font-size: 15px; font-weight: 600; }
.badge { display: inline-flex; align-items: center; gap: 4px; color: var(--_muted); font-size: 12px; }
.badge svg { width: 12px; height: 12px; fill: currentColor; }
.status { margin: 0; color: var(--_muted); font-size: 12.5px; min-height: 1.45em; overflow-wrap: anywhere; }
progress { width: 100%; height: 4px; accent-color: var(--_accent); }
progress[hidden] { display: none; }
.log {
  margin: 0;
  padding: 8px 10px;
  min-height: 4.5em;
  max-height: 16rem;
  overflow-y: auto;
  background: var(--_soft);
  border-radius: calc(var(--_radius) - 4px);
  white-space: pre-wrap;
  overflow-wrap: anywhere;
}
.log:empty::before { content: attr(data-empty); color: var(--_muted); }
.turn { margin: 0 0 8px; }
.turn:last-child { margin-bottom: 0; }
.echo { font-weight: 600; }
.turn[aria-busy="true"] .more::after { content: "▍"; color: var(--_accent); }
.stopped { color: var(--_muted); font-style: italic; }
.receipt { margin: 0; color: var(--_muted); font-size: 12px; }
.receipt:empty { display: none; }
.error { margin: 0; color: var(--_danger); font-size: 13px; overflow-wrap: anywhere; }
.error:empty { display: none; }
form { display: flex; flex-direction: column; gap: 4px; margin: 0; }
label { font-size: 12.5px; font-weight: 600; }
.row { display: flex; gap: 6px; align-items: stretch; }
textarea {
  flex: 1;
  min-width: 0;
  resize: vertical;
  margin: 0;
  padding: 6px 8px;
  font: inherit;
  color: var(--_fg);
  background: var(--_bg);
  border: 1px solid var(--_border);
  border-radius: calc(var(--_radius) - 4px);
}
button {
  font: inherit;
  font-weight: 600;
  margin: 0;
  padding: 6px 14px;
  border-radius: calc(var(--_radius) - 4px);
  border: 1px solid var(--_accent);
  cursor: pointer;
}
.send { background: var(--_accent); color: var(--_on-accent); }
.stop { background: var(--_bg); color: var(--_accent); }
button:disabled { opacity: 0.45; cursor: not-allowed; }
:focus-visible { outline: 2px solid var(--_accent); outline-offset: 2px; }
textarea:focus-visible { outline-offset: 0; }
.hint { margin: 0; color: var(--_muted); font-size: 11.5px; }
`
