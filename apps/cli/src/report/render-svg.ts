import type { TopLevelSpec } from 'vega-lite' with { 'resolution-mode': 'import' };

/**
 * A Vega-Lite chart rendered to a standalone SVG string in Node (no browser, no canvas, no network).
 * vega and vega-lite are ES modules with top-level await, so they are imported, not required.
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export type { TopLevelSpec };
