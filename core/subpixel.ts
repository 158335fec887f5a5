/**
 * Sub-pixel peak location: a parabola through a discrete maximum and its two
 * neighbours, per axis.
 *
 * Correlation surfaces (NCC, phase correlation) are smooth near their peak,
 * so the vertex of the parabola through the best sample and its neighbours
 * estimates where the continuous peak lies between samples. The fit is done
 * separately along x and y: the surfaces here are close to separable near
 * the peak, and a 1-D fit cannot be thrown off by a tilted cross term.
 *
 * @module
 */

/**
 * Offset of the vertex of the parabola through (-1, `left`), (0, `centre`),
 * (1, `right`), clamped to [-0.5, 0.5]. Returns 0 when the three points do not
 * bend down (no maximum at the centre) or are not finite: then the centre
 * sample is the best estimate there is.
 */
export function parabolicOffset(
  left: number,
  centre: number,
  right: number,
): number {
  const curvature = left - 2 * centre + right;
  if (!(curvature < 0) || !Number.isFinite(left + centre + right)) return 0;
  const offset = (left - right) / (2 * curvature);
  return offset > 0.5 ? 0.5 : offset < -0.5 ? -0.5 : offset;
}

/** A peak position with fractional coordinates. */
export interface SubpixelPeak {
  /** Column, fractional. */
  readonly x: number;
  /** Row, fractional. */
  readonly y: number;
}

/**
 * Refines the integer maximum (x, y) of a row-major `width × height` score
 * map to sub-pixel precision with {@link parabolicOffset} along each axis.
 * Neighbours outside the map (or NaN) leave that axis at the integer value.
 * With `wrap`, the map is periodic (as a circular correlation is).
 */
export function subpixelPeak(
  map: ArrayLike<number>,
  width: number,
  height: number,
  x: number,
  y: number,
  wrap = false,
): SubpixelPeak {
  const at = (i: number, j: number): number => {
    if (wrap) {
      i = ((i % width) + width) % width;
      j = ((j % height) + height) % height;
    } else if (i < 0 || j < 0 || i >= width || j >= height) return NaN;
    return map[j * width + i];
  };
  const c = at(x, y);
  return {
    x: x + parabolicOffset(at(x - 1, y), c, at(x + 1, y)),
    y: y + parabolicOffset(at(x, y - 1), c, at(x, y + 1)),
  };
}

/**
 * Height of the vertex of the parabola through (-1, `left`), (0, `centre`),
 * (1, `right`), the vertex taken within [-0.5, 0.5]: what a correlation
 * peak between samples would have scored. `centre` when the points do not
 * bend down or are not finite.
 */
export function parabolicPeakValue(
  left: number,
  centre: number,
  right: number,
): number {
  const t = parabolicOffset(left, centre, right);
  if (t === 0) return centre;
  const b = (right - left) / 2, a = (left + right - 2 * centre) / 2;
  return centre + b * t + a * t * t;
}
