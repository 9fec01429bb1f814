// Shared look of every console component: readable at 1280×800 and on a phone, visible focus for
// keyboard users, errors in red next to their field. Below 600 px a list table marked `cards`
// shows each row as a card of labelled lines (each cell's data-label), so nothing is squeezed
// into a narrow column; long addresses wrap only where they must (never one letter per line).
import { css } from 'lit';

export const shared = css`
  :host { display: block; }
  h1 { font-size: 1.4rem; margin: 0 0 1rem; }
  h2 { font-size: 1.1rem; margin: 1.2rem 0 .6rem; }
  section.card { background: #fff; border: 1px solid #d8dee6; border-radius: 8px; padding: 1rem 1.2rem; margin-bottom: 1rem; }
  label { display: block; margin: .6rem 0; font-weight: 500; }
  label > span { display: block; margin-bottom: .25rem; }
  input, select, textarea { font: inherit; padding: .45rem .55rem; border: 1px solid #9aa7b6; border-radius: 5px; width: 100%; box-sizing: border-box; background: #fff; }
  input[type=checkbox], input[type=radio] { width: auto; }
  textarea { min-height: 5rem; font-family: ui-monospace, monospace; font-size: .85rem; }
  input[aria-invalid=true], select[aria-invalid=true], textarea[aria-invalid=true] { border-color: #c62828; background: #fff6f6; }
  .error { color: #c62828; font-size: .9rem; margin-top: .2rem; }
  .ok { color: #2e7d32; }
  .banner { padding: .6rem .8rem; border-radius: 5px; margin: .6rem 0; }
  .banner.error { background: #fdecea; color: #8e1c1c; }
  .banner.ok { background: #e8f5e9; color: #1b5e20; }
  button { font: inherit; padding: .45rem .9rem; border-radius: 5px; border: 1px solid #1d5fa8; background: #1d5fa8; color: #fff; cursor: pointer; }
  button.secondary { background: #fff; color: #1d5fa8; }
  button.danger { background: #b3261e; border-color: #b3261e; }
  button:disabled { opacity: .6; cursor: default; }
  :focus-visible { outline: 3px solid #f5a623; outline-offset: 2px; }
  .row { display: flex; gap: .6rem; flex-wrap: wrap; align-items: end; }
  .row > * { flex: 1 1 10rem; }
  .actions { display: flex; gap: .5rem; flex-wrap: wrap; margin-top: .8rem; }
  table { border-collapse: collapse; width: 100%; font-size: .92rem; }
  th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid #e3e8ee; vertical-align: top; }
  td.mono, .mono { font-family: ui-monospace, monospace; overflow-wrap: break-word; }
  .muted { color: #5b6775; }
  .table-wrap { overflow-x: auto; }
  /* Utility classes instead of style attributes: the console's CSP (style-src 'self') refuses those. */
  .sr-only { position: absolute; left: -9999px; }
  .flush { margin: 0; }
  .flush-top { margin-top: 0; }
  .pad { padding: 1rem; }
  .end { justify-content: flex-end; }
  .spread { justify-content: space-between; }
  .inline { display: inline-block; }
  .inline.spaced { margin-right: 1rem; }
  .grow { flex: 1 1 18rem; }
  .announce { min-height: 1.2em; margin: .2rem 0; }
  fieldset.bare { border: 0; padding: 0; }
  .dropzone { border: 2px dashed #9aa7b6; border-radius: 8px; padding: 2rem; text-align: center; margin: .8rem 0; background: #fafbfc; }
  .dropzone.over { border-color: #1d5fa8; background: #e3edf8; }
  ul.bare { list-style: none; padding: 0; margin: .4rem 0; }
  button.small { padding: .1rem .45rem; }
  figure.chart { margin: 0; }
  figure.chart svg { width: 100%; height: auto; display: block; }
  @media (max-width: 600px) {
    table.cards thead { display: none; }
    table.cards, table.cards tbody, table.cards tr, table.cards td { display: block; width: auto; }
    table.cards tr { padding: .5rem 0; border-bottom: 1px solid #d8dee6; }
    table.cards td { border: 0; padding: .1rem 0; overflow-wrap: anywhere; }
    table.cards td[data-label]::before { content: attr(data-label) ': '; font-weight: 600; font-family: system-ui, sans-serif; }
  }
  iframe.preview { width: 100%; height: 24rem; border: 1px solid #d8dee6; border-radius: 5px; background: #fff; }
`;
