"""The demo's files as a supplier's phone, printer or bank would make them: label and carton
photos with their EXIF capture date, a scrap tag, a remittance advice as PDF."""

from __future__ import annotations

import datetime
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw, ImageFont

from orders.models import PurchaseOrder
from portal.pdf import html_to_pdf


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size)
    except OSError:
        return ImageFont.load_default()


def label_photo(serial: str, gtin: str, captured: datetime.datetime) -> SimpleUploadedFile:
    """A rating label: GS1 DataMatrix with GTIN and serial, and the same in print beside it."""
    import zxingcpp

    symbol = zxingcpp.create_barcode(
        f"(01){gtin}(21){serial}", zxingcpp.BarcodeFormat.DataMatrix, options="gs1"
    )
    code = Image.fromarray(zxingcpp.write_barcode_to_image(symbol, scale=8)).convert("RGB")
    photo = Image.new("RGB", (900, 600), (214, 210, 200))
    draw = ImageDraw.Draw(photo)
    draw.rounded_rectangle((60, 70, 840, 530), radius=18, fill="white", outline=(60, 60, 60))
    photo.paste(code, (100, 130))
    text = _font(30)
    draw.text((100 + code.width + 40, 140), "Volta 65W USB-C", fill="black", font=_font(36))
    draw.text((100 + code.width + 40, 200), f"GTIN {gtin}", fill="black", font=text)
    draw.text((100 + code.width + 40, 250), f"S/N {serial}", fill="black", font=text)
    draw.text((100 + code.width + 40, 300), "100–240V~ 50/60Hz 1.5A", fill="black", font=_font(24))
    return _jpeg(photo, f"label-{serial}.jpg", captured)


def carton_photo(captured: datetime.datetime) -> SimpleUploadedFile:
    photo = Image.new("RGB", (900, 600), (190, 160, 120))
    draw = ImageDraw.Draw(photo)
    for row in range(2):
        for col in range(3):
            x, y = 70 + col * 270, 60 + row * 270
            draw.rectangle(
                (x, y, x + 240, y + 240), fill=(170, 135, 90), outline=(90, 70, 40), width=4
            )
            draw.text(
                (x + 20, y + 20), f"CTN-{row * 3 + col + 1:03d}", fill="black", font=_font(28)
            )
    return _jpeg(photo, "packed-cartons.jpg", captured)


def photo_scene(seed: int, size: tuple[int, int] = (1200, 900)) -> Image.Image:
    """A photo-like picture, the same for the same seed: a softly lit background, overlapping
    shapes of many colours, blur and sensor noise. Solid-colour test images all share one
    perceptual hash; this one has the detail a real photo has."""
    import random

    import numpy as np
    from PIL import ImageFilter

    rng, noise = random.Random(seed), np.random.default_rng(seed)
    width, height = size
    corners = noise.integers(40, 220, size=(2, 2, 3)).astype(float)
    down = np.linspace(0, 1, height)[:, None, None]
    across = np.linspace(0, 1, width)[None, :, None]
    light = (
        corners[0, 0] * (1 - across) * (1 - down)
        + corners[0, 1] * across * (1 - down)
        + corners[1, 0] * (1 - across) * down
        + corners[1, 1] * across * down
    )
    photo = Image.fromarray(light.astype(np.uint8))
    draw = ImageDraw.Draw(photo)
    for _ in range(rng.randint(12, 25)):
        left, top = rng.randrange(width), rng.randrange(height)
        box = (left, top, left + rng.randint(60, width // 2), top + rng.randint(60, height // 2))
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=colour)
    pixels = np.asarray(photo.filter(ImageFilter.GaussianBlur(3)), dtype=float)
    pixels += noise.normal(0, 8, pixels.shape)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def _jpeg(image: Image.Image, name: str, captured: datetime.datetime) -> SimpleUploadedFile:
    exif = Image.Exif()
    exif[0x8769] = {0x9003: f"{captured:%Y:%m:%d %H:%M:%S}"}  # Exif IFD → DateTimeOriginal
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85, exif=exif)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def payment_proof(
    order: PurchaseOrder, amount: str, currency: str = "USD", what: str = "deposit"
) -> SimpleUploadedFile:
    """A remittance advice as PDF, as a bank would send it."""
    html = (
        "<h1 style='font-family:sans-serif'>Remittance advice</h1>"
        f"<p style='font-family:sans-serif'>Payment of {currency} {amount} to {order.supplier} "
        f"for PO {order.number} ({what}).</p>"
    )
    return SimpleUploadedFile("remittance-advice.pdf", html_to_pdf(html))


def scrap_tag_photo(captured: datetime.datetime) -> SimpleUploadedFile:
    """The burn-in station's scrap tag, photographed on the scrap bin."""
    photo = Image.new("RGB", (900, 600), (120, 120, 128))
    draw = ImageDraw.Draw(photo)
    draw.rectangle((150, 90, 750, 510), fill=(250, 215, 80), outline="black", width=4)
    draw.text((190, 130), "SCRAP — BURN-IN FAIL", fill="black", font=_font(40))
    draw.text((190, 220), "VLT000109501 – VLT000109512", fill="black", font=_font(30))
    draw.text((190, 280), "12 units, line 2, station BI-4", fill="black", font=_font(28))
    draw.text((190, 340), "QC: Li Na", fill="black", font=_font(28))
    return _jpeg(photo, "burn-in-scrap-tag.jpg", captured)
