/**
 * The drawing pad: white strokes on black with the mouse, a finger or a pen (pointer events), and the
 * drawing as the tokenizer's training data had its digits: the strokes' bounding box scaled to fit
 * 20×20 pixels and centred in 32×32 (MNIST's 20-pixel box in 28, padded by 2 on each side).
 */
const SIDE = 32;
const BOX = 20;

export interface DrawingPad {
  clear(): void;
  /** The drawing as a 32×32 ImageData, centred like the training digits. */
  digit(): ImageData;
}

function context2d(canvas: HTMLCanvasElement | OffscreenCanvas): CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D {
  const context = canvas.getContext('2d', { willReadFrequently: true }) as CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D | null;
  if (!context) throw new Error('this browser gave no 2D canvas context');
  return context;
}

/** The smallest rectangle holding every lit pixel; undefined when none is. */
function litBox(image: ImageData): { x: number; y: number; w: number; h: number } | undefined {
  let [x0, y0, x1, y1] = [image.width, image.height, -1, -1];
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      if (image.data[4 * (y * image.width + x)] > 0) {
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y);
      }
    }
  }
  return x1 < 0 ? undefined : { x: x0, y: y0, w: x1 - x0 + 1, h: y1 - y0 + 1 };
}

/** Calls `onStroke` after each finished stroke. */
export function drawingPad(canvas: HTMLCanvasElement, onStroke: () => void): DrawingPad {
  const pen = context2d(canvas) as CanvasRenderingContext2D;
  let drawing = false;
  const clear = () => {
    pen.fillStyle = '#000';
    pen.fillRect(0, 0, canvas.width, canvas.height);
  };
  // Pointer coordinates in the canvas's own pixels, whatever size CSS shows it at.
  const at = (e: PointerEvent): [number, number] => {
    const r = canvas.getBoundingClientRect();
    return [((e.clientX - r.left) * canvas.width) / r.width, ((e.clientY - r.top) * canvas.height) / r.height];
  };
  canvas.addEventListener('pointerdown', (e) => {
    canvas.setPointerCapture(e.pointerId);
    drawing = true;
    Object.assign(pen, { strokeStyle: '#fff', lineWidth: canvas.width / 12, lineCap: 'round', lineJoin: 'round' });
    pen.beginPath();
    pen.moveTo(...at(e));
    pen.lineTo(...at(e));
    pen.stroke();
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!drawing) return;
    pen.lineTo(...at(e));
    pen.stroke();
  });
  const end = () => {
    if (!drawing) return;
    drawing = false;
    onStroke();
  };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);
  clear();

  return {
    clear,
    digit() {
      const out = new OffscreenCanvas(SIDE, SIDE);
      const small = context2d(out);
      small.fillStyle = '#000';
      small.fillRect(0, 0, SIDE, SIDE);
      const box = litBox(pen.getImageData(0, 0, canvas.width, canvas.height));
      if (box) {
        const scale = BOX / Math.max(box.w, box.h);
        const [w, h] = [box.w * scale, box.h * scale];
        small.imageSmoothingQuality = 'high';
        small.drawImage(canvas, box.x, box.y, box.w, box.h, (SIDE - w) / 2, (SIDE - h) / 2, w, h);
      }
      return small.getImageData(0, 0, SIDE, SIDE);
    },
  };
}
