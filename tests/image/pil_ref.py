#!/usr/bin/python3
"""Reference computations for tests/image with PIL and torchvision.

Reads commands, one per line, from the file named by argv[1]:
  resize IN OUT W H         PIL Image.resize((W, H), BILINEAR), pixels as raw
  decode IN OUT             PIL's decode of IN, pixels as raw
  convert IN OUT MODE       PIL Image.convert(MODE), pixels as raw
  tv IN OUT RESIZE CROP     torchvision Resize(RESIZE) + CenterCrop(CROP) on PIL (RESIZE 0: no
                            Resize), pixels as raw
  totensor IN OUT RESIZE CROP   ... + ToTensor + Normalize(ImageNet), float32 as raw
  jpeg IN OUT QUALITY [progressive] [gray]   saves IN as a JPEG with PIL
Raw pixel files: a text line "W H C\n" then bytes; float files: "C H W\n" then float32 (native).
Exits 77 (the skip code) when PIL, numpy or torchvision cannot be imported.
"""
import sys

try:
    import numpy as np
    from PIL import Image
    import torchvision.transforms as T
except ImportError as e:  # pragma: no cover
    print("skip: %s" % e, file=sys.stderr)
    sys.exit(77)


def write_pixels(path, im):
    a = np.asarray(im)
    h, w = a.shape[:2]
    c = 1 if a.ndim == 2 else a.shape[2]
    with open(path, "wb") as f:
        f.write(b"%d %d %d\n" % (w, h, c))
        f.write(np.ascontiguousarray(a, dtype=np.uint8).tobytes())


def main():
    for line in open(sys.argv[1]):
        a = line.split()
        if not a:
            continue
        cmd, src, out = a[0], a[1], a[2]
        im = Image.open(src)
        im.load()
        if cmd == "resize":
            write_pixels(out, im.resize((int(a[3]), int(a[4])), Image.BILINEAR))
        elif cmd == "decode":
            write_pixels(out, im)
        elif cmd == "convert":
            write_pixels(out, im.convert(a[3]))
        elif cmd in ("tv", "totensor"):
            tf = ([T.Resize(int(a[3]))] if int(a[3]) > 0 else []) + [T.CenterCrop(int(a[4]))]
            im = im.convert("RGB")
            if cmd == "tv":
                write_pixels(out, T.Compose(tf)(im))
            else:
                tf += [T.ToTensor(), T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])]
                t = T.Compose(tf)(im).numpy().astype(np.float32)
                with open(out, "wb") as f:
                    f.write(b"%d %d %d\n" % t.shape)
                    f.write(t.tobytes())
        elif cmd == "jpeg":
            if "gray" in a[4:]:
                im = im.convert("L")
            im.save(out, "JPEG", quality=int(a[3]), progressive="progressive" in a[4:])
        else:
            raise SystemExit("unknown command " + cmd)


main()
