/** A tiny element builder: the panels are plain DOM inside Lumino widgets. */

type Attrs = Record<string, string | number | boolean | undefined>;
type Child = Node | string | null | undefined | false;

/** `h('td', {class: 'x'}, 'text')`: an element with attributes and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) {
      continue;
    }
    el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) {
      continue;
    }
    el.append(child);
  }
  return el;
}

/** The message of a failed request, announced to screen readers as an alert. */
export function errorAlert(error: unknown): HTMLElement {
  return h(
    'div',
    { role: 'alert', class: 'jp-nbtrack-Sidebar-error' },
    (error as Error).message
  );
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An SVG element with attributes. */
export function s(
  tag: string,
  attrs: Attrs = {},
  ...children: Child[]
): SVGElement {
  const el = document.createElementNS(SVG_NS, tag) as SVGElement;
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== false) {
      el.setAttribute(name, String(value));
    }
  }
  for (const child of children) {
    if (child) {
      el.append(child);
    }
  }
  return el;
}
