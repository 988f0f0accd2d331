/**
 * exp, log, sin, cos, atan2 and pow that give the same bits in every
 * JavaScript engine. `Math.exp` and its kin are not specified to the last
 * bit, and the engines differ: V8 took fdlibm's algorithms and later moved
 * some to LLVM's libc (Node 20 and Deno 2 disagree), JavaScriptCore (Bun)
 * calls the system's libm. One ulp here and there is enough to send an
 * optimisation of hundreds of iterations to a different layout, so the
 * embedding computes these functions itself, with fdlibm's algorithms
 * (Sun Microsystems, 1993: freely usable with its notice), using only
 * +, −, ×, ÷ and sqrt, which IEEE 754 rounds exactly alike everywhere. The
 * results are those of fdlibm, which is what Node 20's V8 returns, within
 * 1 ulp of the true value.
 *
 * sin and cos reduce their argument exactly for |x| < 2^19·π/2 (about
 * 823,550); beyond that they fall back to Math (this library never goes
 * there: its angles stay within a few turns).
 */

const f64 = new Float64Array(1);
const i32 = new Int32Array(f64.buffer);
/** Index of the high (sign and exponent) word of a double in `i32`. */
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;
const LO = 1 - HI;

function high(x: number): number {
  f64[0] = x;
  return i32[HI];
}
function low(x: number): number {
  f64[0] = x;
  return i32[LO];
}
function withHigh(x: number, hi: number): number {
  f64[0] = x;
  i32[HI] = hi;
  return f64[0];
}
function fromWords(hi: number, lo: number): number {
  i32[HI] = hi;
  i32[LO] = lo;
  return f64[0];
}

// ---- exp ---------------------------------------------------------------------

const LN2_HI = 6.93147180369123816490e-01;
const LN2_LO = 1.90821492927058770002e-10;
const INV_LN2 = 1.44269504088896338700e+00;
const P1 = 1.66666666666666019037e-01;
const P2 = -2.77777777770155933842e-03;
const P3 = 6.61375632143793436117e-05;
const P4 = -1.65339022054652515390e-06;
const P5 = 4.13813679705723846039e-08;
const TWO_M1000 = 9.33263618503218878990e-302;
const TWO_1023 = 8.988465674311579539e307;

/** |x| from which exp over- or underflows, and fdlibm's other cuts on |x|'s high word, as doubles. */
const EXP_HUGE = fromWords(0x40862e42, 0), EXP_REDUCE = fromWords(0x3fd62e43, 0), EXP_ONE_LN2 = fromWords(0x3ff0a2b2, 0), EXP_TINY = fromWords(0x3e300000, 0);
/** 2^k for k = −1021 … 1023 at k + 1021, so that scaling by one is a lookup. */
const POW2 = Float64Array.from({ length: 2045 }, (_, a) => fromWords((0x3ff00000 + ((a - 1021) << 20)) | 0, 0));

/**
 * e^x, as fdlibm computes it. Its branches on the high word are comparisons
 * of |x| with the doubles they stand for, and its final scaling by 2^k a
 * table lookup: the same bits, without a trip through memory for each.
 */
export function exp(x: number): number {
  const negative = x < 0, ax = negative ? -x : x;
  if (!(ax < EXP_HUGE)) {
    // |x| ≥ 709.78: overflow, underflow, ±Infinity or NaN.
    if (x !== x) return x + x;
    if (x > 7.09782712893383973096e+02) return Infinity;
    if (x < -7.45133219101941108420e+02) return 0;
  }
  let hi = 0, lo = 0, k = 0;
  if (ax >= EXP_REDUCE) {
    // |x| > ln2 / 2: x = k·ln2 + r.
    if (ax < EXP_ONE_LN2) {
      if (x === 1) return Math.E;
      hi = negative ? x + LN2_HI : x - LN2_HI;
      lo = negative ? -LN2_LO : LN2_LO;
      k = negative ? -1 : 1;
    } else {
      k = Math.trunc(INV_LN2 * x + (negative ? -0.5 : 0.5));
      hi = x - k * LN2_HI;
      lo = k * LN2_LO;
    }
    x = hi - lo;
  } else if (ax < EXP_TINY) {
    return 1 + x;
  }
  const t = x * x;
  const c = x - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
  if (k === 0) return 1 - ((x * c) / (c - 2) - x);
  const y = 1 - ((lo - (x * c) / (2 - c)) - hi);
  if (k >= -1021) {
    if (k === 1024) return y * 2 * TWO_1023;
    return y * POW2[k + 1021];
  }
  return y * POW2[k + 1000 + 1021] * TWO_M1000;
}

// ---- log ---------------------------------------------------------------------

const TWO54 = 1.80143985094819840000e+16;
const LG1 = 6.666666666666735130e-01;
const LG2 = 3.999999999940941908e-01;
const LG3 = 2.857142874366239149e-01;
const LG4 = 2.222219843214978396e-01;
const LG5 = 1.818357216161805012e-01;
const LG6 = 1.531383769920937332e-01;
const LG7 = 1.479819860511658591e-01;

/** The natural logarithm, as fdlibm computes it. */
export function log(x: number): number {
  let hx = high(x);
  const lx = low(x);
  let k = 0;
  if (hx < 0x00100000) {
    if (((hx & 0x7fffffff) | lx) === 0) return -Infinity;
    if (hx < 0) return NaN;
    // Subnormal: scale up.
    k -= 54;
    x *= TWO54;
    hx = high(x);
  }
  if (hx >= 0x7ff00000) return x + x;
  k += (hx >> 20) - 1023;
  hx &= 0x000fffff;
  let i = (hx + 0x95f64) & 0x100000;
  x = withHigh(x, hx | (i ^ 0x3ff00000)); // x or x/2 into [√2/2, √2)
  k += i >> 20;
  const f = x - 1;
  if ((0x000fffff & (2 + hx)) < 3) {
    // |f| < 2^-20
    if (f === 0) return k === 0 ? 0 : k * LN2_HI + k * LN2_LO;
    const r = f * f * (0.5 - 0.33333333333333333 * f);
    return k === 0 ? f - r : k * LN2_HI - ((r - k * LN2_LO) - f);
  }
  const s = f / (2 + f);
  const z = s * s;
  i = hx - 0x6147a;
  const w = z * z;
  const j = 0x6b851 - hx;
  const t1 = w * (LG2 + w * (LG4 + w * LG6));
  const t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
  i |= j;
  const r = t2 + t1;
  if (i > 0) {
    const hfsq = 0.5 * f * f;
    return k === 0 ? f - (hfsq - s * (hfsq + r)) : k * LN2_HI - ((hfsq - (s * (hfsq + r) + k * LN2_LO)) - f);
  }
  return k === 0 ? f - s * (f - r) : k * LN2_HI - ((s * (f - r) - k * LN2_LO) - f);
}

/** x^y for x > 0, as exp(y·log x): the same bits everywhere, within a few ulp. */
export function pow(x: number, y: number): number {
  if (y === 0) return 1;
  if (Number.isInteger(y) && Math.abs(y) <= 64) {
    // Repeated squaring: exact operations, the same everywhere.
    let result = 1, base = y < 0 ? 1 / x : x, n = Math.abs(y);
    while (n > 0) {
      if (n & 1) result *= base;
      base *= base;
      n >>= 1;
    }
    return result;
  }
  return exp(y * log(x));
}

// ---- sin, cos ------------------------------------------------------------------

const S1 = -1.66666666666666324348e-01;
const S2 = 8.33333333332248946124e-03;
const S3 = -1.98412698298579493134e-04;
const S4 = 2.75573137070700676789e-06;
const S5 = -2.50507602534068634195e-08;
const S6 = 1.58969099521155010221e-10;

/** sin on [−π/4, π/4] of x + y (y the tail of x; `hasTail` false when y is 0). */
function kernelSin(x: number, y: number, hasTail: boolean): number {
  if ((high(x) & 0x7fffffff) < 0x3e400000 && Math.trunc(x) === 0) return x;
  const z = x * x;
  const v = z * x;
  const r = S2 + z * (S3 + z * (S4 + z * (S5 + z * S6)));
  if (!hasTail) return x + v * (S1 + z * r);
  return x - ((z * (0.5 * y - v * r) - y) - v * S1);
}

const C1 = 4.16666666666666019037e-02;
const C2 = -1.38888888888741095749e-03;
const C3 = 2.48015872894767294178e-05;
const C4 = -2.75573143513906633035e-07;
const C5 = 2.08757232129817482790e-09;
const C6 = -1.13596475577881948265e-11;

/** cos on [−π/4, π/4] of x + y. */
function kernelCos(x: number, y: number): number {
  const ix = high(x) & 0x7fffffff;
  if (ix < 0x3e400000 && Math.trunc(x) === 0) return 1;
  const z = x * x;
  const r = z * (C1 + z * (C2 + z * (C3 + z * (C4 + z * (C5 + z * C6)))));
  if (ix < 0x3fd33333) return 1 - (0.5 * z - (z * r - x * y));
  const qx = ix > 0x3fe90000 ? 0.28125 : fromWords(ix - 0x00200000, 0);
  const hz = 0.5 * z - qx;
  const a = 1 - qx;
  return a - (hz - (z * r - x * y));
}

const INV_PIO2 = 6.36619772367581382433e-01;
const PIO2_1 = 1.57079632673412561417e+00;
const PIO2_1T = 6.07710050650619224932e-11;
const PIO2_2 = 6.07710050630396597660e-11;
const PIO2_2T = 2.02226624879595063154e-21;
const PIO2_3 = 2.02226624871116645580e-21;
const PIO2_3T = 8.47842766036889956997e-32;
/** High words of n·π/2 for n = 1..32, where the quick reduction may cancel. */
const NPIO2_HW = [
  0x3ff921fb, 0x400921fb, 0x4012d97c, 0x401921fb, 0x401f6a7a, 0x4022d97c, 0x4025fdbb, 0x402921fb,
  0x402c463a, 0x402f6a7a, 0x4031475c, 0x4032d97c, 0x40346b9c, 0x4035fdbb, 0x40378fdb, 0x403921fb,
  0x403ab41b, 0x403c463a, 0x403dd85a, 0x403f6a7a, 0x40407e4c, 0x4041475c, 0x4042106c, 0x4042d97c,
  0x4043a28c, 0x40446b9c, 0x404534ac, 0x4045fdbb, 0x4046c6cb, 0x40478fdb, 0x404858eb, 0x404921fb,
];

/** x − n·π/2 as y[0] + y[1] for π/4 < |x| ≤ 2^19·π/2; returns n. */
function remPio2(x: number, hx: number, y: Float64Array): number {
  const ix = hx & 0x7fffffff;
  if (ix < 0x4002d97c) {
    // |x| < 3π/4: n = ±1.
    if (hx > 0) {
      let z = x - PIO2_1;
      if (ix !== 0x3ff921fb) {
        y[0] = z - PIO2_1T;
        y[1] = (z - y[0]) - PIO2_1T;
      } else {
        z -= PIO2_2;
        y[0] = z - PIO2_2T;
        y[1] = (z - y[0]) - PIO2_2T;
      }
      return 1;
    }
    let z = x + PIO2_1;
    if (ix !== 0x3ff921fb) {
      y[0] = z + PIO2_1T;
      y[1] = (z - y[0]) + PIO2_1T;
    } else {
      z += PIO2_2;
      y[0] = z + PIO2_2T;
      y[1] = (z - y[0]) + PIO2_2T;
    }
    return -1;
  }
  const t0 = Math.abs(x);
  const n = Math.trunc(t0 * INV_PIO2 + 0.5);
  let r = t0 - n * PIO2_1;
  let w = n * PIO2_1T;
  if (n < 32 && ix !== NPIO2_HW[n - 1]) {
    y[0] = r - w;
  } else {
    const j = ix >> 20;
    y[0] = r - w;
    let i = j - ((high(y[0]) >> 20) & 0x7ff);
    if (i > 16) {
      // A second round, good to 118 bits.
      let t = r;
      w = n * PIO2_2;
      r = t - w;
      w = n * PIO2_2T - ((t - r) - w);
      y[0] = r - w;
      i = j - ((high(y[0]) >> 20) & 0x7ff);
      if (i > 49) {
        // A third, good to 151 bits.
        t = r;
        w = n * PIO2_3;
        r = t - w;
        w = n * PIO2_3T - ((t - r) - w);
        y[0] = r - w;
      }
    }
  }
  y[1] = (r - y[0]) - w;
  if (hx < 0) {
    y[0] = -y[0];
    y[1] = -y[1];
    return -n;
  }
  return n;
}

const reduced = new Float64Array(2);

/** sin x, as fdlibm computes it. */
export function sin(x: number): number {
  const hx = high(x), ix = hx & 0x7fffffff;
  if (ix <= 0x3fe921fb) return kernelSin(x, 0, false);
  if (ix >= 0x7ff00000) return NaN;
  if (ix > 0x413921fb) return Math.sin(x);
  const n = remPio2(x, hx, reduced);
  switch (n & 3) {
    case 0: return kernelSin(reduced[0], reduced[1], true);
    case 1: return kernelCos(reduced[0], reduced[1]);
    case 2: return -kernelSin(reduced[0], reduced[1], true);
    default: return -kernelCos(reduced[0], reduced[1]);
  }
}

/** cos x, as fdlibm computes it. */
export function cos(x: number): number {
  const hx = high(x), ix = hx & 0x7fffffff;
  if (ix <= 0x3fe921fb) return kernelCos(x, 0);
  if (ix >= 0x7ff00000) return NaN;
  if (ix > 0x413921fb) return Math.cos(x);
  const n = remPio2(x, hx, reduced);
  switch (n & 3) {
    case 0: return kernelCos(reduced[0], reduced[1]);
    case 1: return -kernelSin(reduced[0], reduced[1], true);
    case 2: return -kernelCos(reduced[0], reduced[1]);
    default: return kernelSin(reduced[0], reduced[1], true);
  }
}

// ---- atan, atan2 -----------------------------------------------------------------

const ATAN_HI = [4.63647609000806093515e-01, 7.85398163397448278999e-01, 9.82793723247329054082e-01, 1.57079632679489655800e+00];
const ATAN_LO = [2.26987774529616870924e-17, 3.06161699786838301793e-17, 1.39033110312309984516e-17, 6.12323399573676603587e-17];
const AT = [
  3.33333333333329318027e-01, -1.99999999998764832476e-01, 1.42857142725034663711e-01, -1.11111104054623557880e-01,
  9.09088713343650656196e-02, -7.69187620504482999495e-02, 6.66107313738753120669e-02, -5.83357013379057348645e-02,
  4.97687799461593236017e-02, -3.65315727442169155270e-02, 1.62858201153657823623e-02,
];

/** atan x, as fdlibm computes it. */
export function atan(x: number): number {
  const hx = high(x), ix = hx & 0x7fffffff;
  let id: number;
  if (ix >= 0x44100000) {
    // |x| ≥ 2^66, or NaN.
    if (ix > 0x7ff00000 || (ix === 0x7ff00000 && low(x) !== 0)) return x + x;
    return hx > 0 ? ATAN_HI[3] + ATAN_LO[3] : -ATAN_HI[3] - ATAN_LO[3];
  }
  if (ix < 0x3fdc0000) {
    if (ix < 0x3e400000) return x;
    id = -1;
  } else {
    x = Math.abs(x);
    if (ix < 0x3ff30000) {
      if (ix < 0x3fe60000) {
        id = 0;
        x = (2 * x - 1) / (2 + x);
      } else {
        id = 1;
        x = (x - 1) / (x + 1);
      }
    } else if (ix < 0x40038000) {
      id = 2;
      x = (x - 1.5) / (1 + 1.5 * x);
    } else {
      id = 3;
      x = -1 / x;
    }
  }
  const z = x * x;
  const w = z * z;
  const s1 = z * (AT[0] + w * (AT[2] + w * (AT[4] + w * (AT[6] + w * (AT[8] + w * AT[10])))));
  const s2 = w * (AT[1] + w * (AT[3] + w * (AT[5] + w * (AT[7] + w * AT[9]))));
  if (id < 0) return x - x * (s1 + s2);
  const r = ATAN_HI[id] - ((x * (s1 + s2) - ATAN_LO[id]) - x);
  return hx < 0 ? -r : r;
}

const PI = 3.1415926535897931160e+00;
const PI_LO = 1.2246467991473531772e-16;
const PI_O_2 = 1.5707963267948965580e+00;
const PI_O_4 = 7.8539816339744827900e-01;

/** atan2(y, x), as fdlibm computes it. */
export function atan2(y: number, x: number): number {
  if (Number.isNaN(x) || Number.isNaN(y)) return x + y;
  const hx = high(x), lx = low(x), hy = high(y), ly = low(y);
  const ix = hx & 0x7fffffff, iy = hy & 0x7fffffff;
  if (x === 1) return atan(y);
  const m = ((hy >>> 31) & 1) | ((hx >>> 30) & 2); // 2·sign(x) + sign(y)
  if ((iy | ly) === 0) {
    // y = ±0
    if (m < 2) return y;
    return m === 2 ? PI : -PI;
  }
  if ((ix | lx) === 0) return hy < 0 ? -PI_O_2 : PI_O_2;
  if (ix === 0x7ff00000) {
    if (iy === 0x7ff00000) return [PI_O_4, -PI_O_4, 3 * PI_O_4, -3 * PI_O_4][m];
    return [0, -0, PI, -PI][m];
  }
  if (iy === 0x7ff00000) return hy < 0 ? -PI_O_2 : PI_O_2;
  const k = (iy - ix) >> 20;
  let z: number, quadrant = m;
  if (k > 60) {
    z = PI_O_2 + 0.5 * PI_LO;
    quadrant &= 1;
  } else if (hx < 0 && k < -60) {
    z = 0;
  } else {
    z = atan(Math.abs(y / x));
  }
  switch (quadrant) {
    case 0: return z;
    case 1: return -z;
    case 2: return PI - (z - PI_LO);
    default: return (z - PI_LO) - PI;
  }
}
