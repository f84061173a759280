// DOM helpers. Data only ever becomes text nodes and textContent: no markup is built from strings.

export const $ = (id) => document.getElementById(id);

/** An element with attributes and children; string and number children become text, never HTML. */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** Replaces a node's children. */
export function fill(node, ...children) {
  node.replaceChildren();
  for (const child of children.flat()) if (child !== undefined && child !== null) node.append(child);
}

/** A table row of text cells; a Node cell is put in as is. */
export function row(cells, attrs = {}) {
  return h(
    'tr',
    attrs,
    cells.map((cell) => h('td', {}, cell ?? '')),
  );
}

/** JSON for a <pre>, shown as text. */
export function pretty(value) {
  return value === undefined ? '' : JSON.stringify(value, null, 2);
}

/** A call id short enough for a table cell; the whole id is in the tooltip. */
export function shortId(id) {
  return h('span', { title: id }, id.length > 8 ? `${id.slice(0, 8)}…` : id);
}

export function show(node, visible) {
  node.hidden = !visible;
}

/** An ISO time as the browser's local time of day (date included when it is not today). */
export function when(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  const today = new Date().toDateString() === date.toDateString();
  return today ? date.toLocaleTimeString() : date.toLocaleString();
}
