// A tiny PNG encoder for test photos (RGB, no dependencies).
import { deflateSync } from 'node:zlib';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buffer) {
  let c = 0xffffffff;
  for (const byte of buffer) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** PNG bytes of a width x height image whose pixel (x, y) is pixel(x, y) -> [r, g, b]. */
export function png(width, height, pixel) {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  let at = 0;
  for (let y = 0; y < height; y += 1) {
    raw[at++] = 0; // filter: none
    for (let x = 0; x < width; x += 1) {
      const [r, g, b] = pixel(x, y);
      raw[at++] = r; raw[at++] = g; raw[at++] = b;
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit, truecolour
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0)),
  ]);
}

const clamp = (v) => Math.max(0, Math.min(255, Math.round(v)));

/** A small landscape "photo": sky gradient, sun, hills. `hue` shifts the palette. */
export function landscape(hue = 0, width = 320, height = 240) {
  const sunX = width * (0.25 + 0.5 * ((hue % 3) / 2));
  return png(width, height, (x, y) => {
    const hill = height * (0.62 + 0.08 * Math.sin(x / (27 + hue * 5) + hue));
    if (y > hill) return [clamp(40 + hue * 30), clamp(120 - y / 6 + hue * 10), clamp(60 + hue * 20)];
    const d = Math.hypot(x - sunX, y - height * 0.3);
    if (d < 26) return [255, clamp(210 - hue * 30), 80];
    const t = y / hill;
    return [clamp(70 + 150 * t + hue * 20), clamp(130 + 90 * t - hue * 15), clamp(230 - 40 * t - hue * 30)];
  });
}
