//go:build ignore

// Command icons draws the Teams app icons: color.png (192x192, the mark on
// the accent colour) and outline.png (32x32, white on transparent, as Teams
// requires). Run it from this directory: go run icons.go
package main

import (
	"image"
	"image/color"
	"image/png"
	"log"
	"os"
)

// accent is the manifest's accentColor, #2B5797.
var accent = color.RGBA{0x2B, 0x57, 0x97, 0xFF}

// mark draws "it" from rectangles on a 16x16 grid, scaled to size, with an
// inset so the outline icon keeps Teams' transparent border.
func mark(img *image.RGBA, size int, inset float64, c color.Color) {
	unit := (float64(size) - 2*inset) / 16
	rect := func(x0, y0, x1, y1 float64) {
		for y := int(inset + y0*unit); y < int(inset+y1*unit); y++ {
			for x := int(inset + x0*unit); x < int(inset+x1*unit); x++ {
				img.Set(x, y, c)
			}
		}
	}
	rect(3, 2, 6, 5)   // the dot of the i
	rect(3, 6, 6, 14)  // the stem of the i
	rect(9, 2, 12, 14) // the stem of the t
	rect(7, 5, 14, 8)  // the bar of the t
}

func write(name string, img image.Image) {
	f, err := os.Create(name)
	if err != nil {
		log.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}

func main() {
	col := image.NewRGBA(image.Rect(0, 0, 192, 192))
	for y := 0; y < 192; y++ {
		for x := 0; x < 192; x++ {
			col.Set(x, y, accent)
		}
	}
	mark(col, 192, 40, color.White)
	write("color.png", col)

	out := image.NewRGBA(image.Rect(0, 0, 32, 32)) // transparent
	mark(out, 32, 2, color.White)
	write("outline.png", out)
}
