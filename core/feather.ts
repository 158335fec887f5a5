/**
 * A feathered fg edge for `--smooth`: an alpha channel that ramps from
 * transparent at the fg's border to opaque `margin` pixels in, on the sides
 * that lie over visible bg, as an ffmpeg filter-graph fragment.
 *
 * The mask is one still picture: `geq` evaluates it once on a single-frame
 * `color` source, and `alphamerge` pairs every fg frame with it (its
 * framesync repeats a secondary input's last frame past its end). Per frame
 * that costs a plane copy and the overlay's alpha blend, not a per-pixel
 * expression over the whole video.
 *
 * @module
 */

/** Which sides of the fg get a feathered edge. */
export interface FeatherSides {
  /** Left side. */
  readonly left: boolean;
  /** Right side. */
  readonly right: boolean;
  /** Top side. */
  readonly top: boolean;
  /** Bottom side. */
  readonly bottom: boolean;
}

/** Where the fg's picture lands in the bg, in bg pixels. */
export interface PlacedRect {
  /** Left edge (may be negative: the fg overhangs the bg). */
  readonly x: number;
  /** Top edge. */
  readonly y: number;
  /** Width as composed (after any scaling or cropping). */
  readonly width: number;
  /** Height as composed. */
  readonly height: number;
}

/** Filter-graph labels (without brackets) of the fragment's input and output. */
export interface FeatherLabels {
  /** The fg stream going in. */
  readonly input: string;
  /** The fg stream with alpha coming out; internal labels derive from it. */
  readonly output: string;
}

/**
 * The sides to feather: a side is feathered when it lies over visible bg,
 * i.e. the fg edge is strictly inside the bg. An edge on the bg border or
 * beyond it shows no bg next to it, and feathering it would only let the
 * bg show through at the frame border.
 */
export function featherSides(
  placed: PlacedRect,
  bg: { readonly width: number; readonly height: number },
): FeatherSides {
  return {
    left: placed.x > 0,
    top: placed.y > 0,
    right: placed.x + placed.width < bg.width,
    bottom: placed.y + placed.height < bg.height,
  };
}

/** True when any side is feathered. */
export function anyFeathered(sides: FeatherSides): boolean {
  return sides.left || sides.right || sides.top || sides.bottom;
}

/**
 * The `geq` expression of the mask: per feathered side a linear ramp
 * `clip(d / margin, 0, 1)` of the distance d in pixels from that edge (0 on
 * the edge pixel, 1 from `margin` pixels in), multiplied so corners fade on
 * both sides; 255 where nothing is feathered.
 */
export function featherExpression(sides: FeatherSides, margin: number): string {
  const ramps: string[] = [];
  if (sides.left) ramps.push(`clip(X/${margin},0,1)`);
  if (sides.right) ramps.push(`clip((W-1-X)/${margin},0,1)`);
  if (sides.top) ramps.push(`clip(Y/${margin},0,1)`);
  if (sides.bottom) ramps.push(`clip((H-1-Y)/${margin},0,1)`);
  return ["255", ...ramps].join("*");
}

/**
 * A filter-graph fragment (several `;`-joined chains) that gives the fg
 * stream `[labels.input]` of size `width`×`height` an alpha channel
 * feathered on `sides` over `margin` pixels, as `[labels.output]`
 * (yuva420p). Overlaying that output uses its alpha as it is; no side
 * feathered or a margin of 0 gives a plain pass-through.
 *
 * @example
 * featherFilter(1600, 900, { left: true, right: true, top: false, bottom: true },
 *   8, { input: "f0", output: "f" });
 */
export function featherFilter(
  width: number,
  height: number,
  sides: FeatherSides,
  margin: number,
  labels: FeatherLabels,
): string {
  if (
    !Number.isInteger(width) || !Number.isInteger(height) || width < 1 ||
    height < 1
  ) {
    throw new RangeError(`bad fg size ${width}×${height}`);
  }
  if (!Number.isFinite(margin) || margin < 0) {
    throw new RangeError(`--margin must be 0 or more, got ${margin}`);
  }
  const { input, output } = labels;
  if (margin === 0 || !anyFeathered(sides)) return `[${input}]null[${output}]`;
  const mask = `${output}_mask`, withAlpha = `${output}_yuva`;
  // One frame (r=1, d=1) of a gray picture; geq runs on it once. Quotes keep
  // the expression's commas from splitting the filter chain.
  return `color=c=black:s=${width}x${height}:r=1:d=1,format=gray,` +
    `geq=lum='${featherExpression(sides, margin)}'[${mask}];` +
    `[${input}]format=yuva420p[${withAlpha}];` +
    `[${withAlpha}][${mask}]alphamerge[${output}]`;
}
