"""The demo's approved sample (issue 15): the Volta 65W charger the buyer approved before the
order, photographed with its rating label, the label's layout and the inspector's instruction."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw, ImageFont

from orders.models import ApprovedSample, PurchaseOrder
from orders.samples import approved_sample_create, approved_sample_for
from portal.models import User

SERIAL_FORMAT = "VLT#########"
APPROVED_SERIAL = "VLT000000001"  # the sample unit the buyer kept, labelled before production
INSTRUCTION = (
    "On each sampled unit, scan the DataMatrix right of the rating text: it must give the "
    "order's GTIN in (01) and the unit's serial in (21), the same serial as printed after S/N. "
    "Check that the model name and the rating (100–240V~ 50/60Hz 1.5A) are printed as on the "
    "approved label, and photograph any label that differs."
)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size)
    except OSError:
        return ImageFont.load_default()


def _jpeg(image: Image.Image, name: str) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=88)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def approved_label_photo(gtin: str, serial: str = APPROVED_SERIAL) -> SimpleUploadedFile:
    """The approved rating label: model, GTIN, serial and rating in print, and the GS1
    DataMatrix carrying (01) and (21) right of the rating text."""
    import zxingcpp

    symbol = zxingcpp.create_barcode(
        f"(01){gtin}(21){serial}", zxingcpp.BarcodeFormat.DataMatrix, options="gs1"
    )
    code = Image.fromarray(zxingcpp.write_barcode_to_image(symbol, scale=8)).convert("RGB")
    photo = Image.new("RGB", (900, 600), (206, 212, 218))
    draw = ImageDraw.Draw(photo)
    draw.rounded_rectangle((50, 70, 850, 530), radius=18, fill="white", outline=(60, 60, 60))
    draw.text((90, 110), "Volta 65W USB-C", fill="black", font=_font(38))
    draw.text((90, 180), f"GTIN {gtin}", fill="black", font=_font(28))
    draw.text((90, 225), f"S/N {serial}", fill="black", font=_font(28))
    draw.text((90, 290), "100–240V~ 50/60Hz 1.5A", fill="black", font=_font(26))
    draw.text((90, 330), "Output 5V 3A / 20V 3.25A", fill="black", font=_font(22))
    photo.paste(code, (820 - code.width, 290 - code.height // 2))
    return _jpeg(photo, "approved-label-volta-65w.jpg")


def approved_sample_photo() -> SimpleUploadedFile:
    """The approved charger on the buyer's grey card: white body, USB-C port, cable, label."""
    photo = Image.new("RGB", (900, 600), (128, 134, 142))
    draw = ImageDraw.Draw(photo)
    draw.rounded_rectangle((250, 120, 650, 470), radius=48, fill=(246, 246, 243))
    draw.rounded_rectangle((250, 120, 650, 470), radius=48, outline=(200, 200, 196), width=4)
    draw.rounded_rectangle((415, 145, 485, 170), radius=10, fill=(40, 40, 44))  # USB-C port
    draw.rounded_rectangle((310, 250, 590, 420), radius=10, fill="white", outline=(120, 120, 120))
    draw.text((330, 265), "Volta 65W USB-C", fill="black", font=_font(22))
    draw.text((330, 300), "100–240V~ 1.5A", fill="black", font=_font(18))
    draw.rectangle((530, 350, 575, 395), fill="black")  # the label's code, seen from afar
    draw.line((450, 120, 450, 60, 760, 60, 820, 130), fill=(235, 235, 232), width=14)
    draw.text((30, 560), "Approved sample · kept by Northwind QA", fill="white", font=_font(20))
    return _jpeg(photo, "approved-sample-volta-65w.jpg")


def demo_approved_sample(*, order: PurchaseOrder, users: dict[str, User]) -> ApprovedSample:
    """The product's approved sample (the GTIN of the story's order), recorded by the buyer
    before the story's approval so that it can be pinned. Safe to run again."""
    existing = approved_sample_for(order)
    if existing is not None:
        return existing
    return approved_sample_create(
        user=users["buyer"],
        product_name=order.product_name,
        gtin=order.gtin,
        sample_photo=approved_sample_photo(),
        label_photo=approved_label_photo(order.gtin),
        label_fields=[
            ApprovedSample.LabelField.GTIN,
            ApprovedSample.LabelField.SERIAL,
            ApprovedSample.LabelField.MODEL,
            ApprovedSample.LabelField.RATING,
        ],
        symbology=ApprovedSample.Symbology.GS1_DATAMATRIX,
        serial_format=SERIAL_FORMAT,
        code_position="right of the rating text",
        instruction=INSTRUCTION,
    )
