"""ACES 4.2 and PIES 7.2 documents as text, element by element in the order the formats fix
(reference aces-pies.md §1.1-1.4 and §2.1-2.2), written for vcdb-stream from that public
description, not from AutoCare's XSDs.  Pure: functions yield the text of a document in pieces.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from simulator.fitment_app import App
from simulator.fitment_pies import Item

PIES_NAMESPACE = "http://www.autocare.org"


@dataclass(frozen=True)
class AcesHeader:
    brand: str
    submission: str
    transfer_date: dt.date
    effective_date: dt.date
    version_date: dt.date  # the VCdb, Qdb and PCdb release the file was mapped against
    regions: tuple[int, ...]  # RegionFor
    company: str = "Simulated Aftermarket Co"
    sender: str = "Fitment Data Team"
    phone: str = "555-0100"


def _el(name: str, text: object) -> str:
    return f"<{name}>{escape(str(text))}</{name}>"


def aces_document(header: AcesHeader, apps: Sequence[App], ref: Callable[[App], str]) -> Iterator[str]:
    h = header
    yield '<?xml version="1.0" encoding="UTF-8"?>\n<ACES version="4.2">\n  <Header>\n'
    fields: list[str] = [
        _el("Company", h.company), _el("SenderName", h.sender), _el("SenderPhone", h.phone),
        _el("TransferDate", h.transfer_date.isoformat()), _el("BrandAAIAID", h.brand),
        _el("DocumentTitle", f"{h.brand} {h.submission.lower()} catalog"), _el("EffectiveDate", h.effective_date),
        "<ApprovedFor><Country>US</Country><Country>CA</Country></ApprovedFor>",
        "<PartsApprovedFor><Country>US</Country></PartsApprovedFor>",
        "<RegionFor>" + "".join(f'<Region id="{r}"/>' for r in h.regions) + "</RegionFor>",
        _el("SubmissionType", h.submission), _el("MapperCompany", h.company),
        _el("MapperEmail", "fitment@example.com"), _el("VcdbVersionDate", h.version_date),
        _el("QdbVersionDate", h.version_date), _el("PcdbVersionDate", h.version_date),
    ]
    yield "".join(f"    {f}\n" for f in fields)
    yield "  </Header>\n"
    for n, app in enumerate(apps, 1):
        yield app_element(n, app, ref(app), h.brand)
    yield f"  <Footer>\n    <RecordCount>{len(apps)}</RecordCount>\n  </Footer>\n</ACES>\n"


def app_element(n: int, app: App, ref: str, brand: str) -> str:
    c, v = app.content, app.content.vehicle
    head = f'action="{app.action}" id="{n}" ref={quoteattr(ref)}' + ("" if app.validate else ' validate="no"')
    out = [f"  <App {head}>"]
    if v.years is not None:
        out += [f'<Years from="{v.years[0]}" to="{v.years[1]}"/>', f'<Make id="{v.make}"/>', f'<Model id="{v.model}"/>']
    else:
        out.append(f'<BaseVehicle id="{v.base_vehicle}"/>')
    if v.submodel is not None:
        out.append(f'<SubModel id="{v.submodel}"/>')
    out += [f'<{element} id="{value}"/>' for element, value in c.attributes]
    for q in c.quals:
        params = "".join(f"<param value={quoteattr(p.value)}" + (f" uom={quoteattr(p.uom)}" if p.uom else "") + "/>"
                         for p in q.params)
        out.append(f'<Qual id="{q.id}">{params}{_el("text", q.text)}</Qual>')
    out += [_el("Note", note) for note in app.notes]
    out += [_el("Qty", app.qty), f'<PartType id="{c.part_type}"/>']
    if app.mfr_label is not None:
        out.append(_el("MfrLabel", app.mfr_label))
    if c.position is not None:
        out.append(f'<Position id="{c.position}"/>')
    out.append(f"<Part BrandAAIAID={quoteattr(brand)}>{escape(c.part)}</Part>" if app.branded_part
               else _el("Part", c.part))
    if app.display_order is not None:
        out.append(_el("DisplayOrder", app.display_order))
    return "\n    ".join(out) + "\n  </App>\n"


@dataclass(frozen=True)
class PiesHeader:
    effective_date: dt.date
    version_date: dt.date  # PCdb and PAdb
    transaction_date: dt.date
    price_sheets: tuple[str, ...]  # one per brand


def pies_document(header: PiesHeader, items: Sequence[Item]) -> Iterator[str]:
    h = header
    yield f'<?xml version="1.0" encoding="UTF-8"?>\n<PIES xmlns="{PIES_NAMESPACE}">\n  <Header>\n'
    fields = [_el("PIESVersion", "7.2"), _el("SubmissionType", "FULL"), _el("BlanketEffectiveDate", h.effective_date),
              _el("CurrencyCode", "USD"), _el("LanguageCode", "EN"), _el("TechnicalContact", "Fitment Data Team"),
              _el("ContactEmail", "pies@example.com"), _el("PCdbVersionDate", h.version_date),
              _el("PAdbVersionDate", h.version_date)]
    yield "".join(f"    {f}\n" for f in fields) + "  </Header>\n  <PriceSheets>\n"
    for sheet in h.price_sheets:
        yield (f'    <PriceSheet MaintenanceType="A">{_el("PriceSheetNumber", sheet)}'
               f'{_el("PriceSheetName", sheet + " list")}{_el("CurrencyCode", "USD")}'
               f'{_el("EffectiveDate", h.effective_date)}</PriceSheet>\n')
    yield "  </PriceSheets>\n  <Items>\n"
    for item in items:
        yield item_element(item, h)
    yield (f"  </Items>\n  <Trailer>\n    {_el('ItemCount', len(items))}\n"
           f"    {_el('TransactionDate', h.transaction_date)}\n  </Trailer>\n</PIES>\n")


def item_element(i: Item, h: PiesHeader) -> str:
    a = 'MaintenanceType="A"'
    out = [_el("HazardousMaterialCode", "N"), f'<ItemLevelGTIN GTINQualifier="UP">{i.gtin}</ItemLevelGTIN>',
           _el("PartNumber", i.part), _el("BrandAAIAID", i.brand), _el("BrandLabel", i.brand_label),
           _el("ACESApplications", "Y"), '<ItemQuantitySize UOM="EA">1</ItemQuantitySize>',
           '<QuantityPerApplication Qualifier="MAX" UOM="EA">1</QuantityPerApplication>',
           _el("ItemEffectiveDate", h.effective_date), '<MinimumOrderQuantity UOM="EA">1</MinimumOrderQuantity>',
           _el("PartTerminologyID", i.part_type), "<Descriptions>"]
    out += [f'  <Description {a} DescriptionCode={quoteattr(code)} LanguageCode="EN" Sequence="{seq}">'
            f"{escape(text)}</Description>" for code, seq, text in i.descriptions]
    out += ["</Descriptions>", "<Prices>"]
    out += [f"  <Pricing {a} PriceType={quoteattr(code)}>{_el('PriceSheetNumber', 'PS-' + i.brand)}"
            f"{_el('CurrencyCode', 'USD')}{_el('EffectiveDate', h.effective_date)}"
            f'<Price UOM="PE">{price}</Price></Pricing>' for code, price in i.prices]
    out += ["</Prices>", "<ExtendedInformation>"]
    out += [f'  <ExtendedProductInformation {a} EXPICode={quoteattr(code)} LanguageCode="EN">'
            f"{escape(value)}</ExtendedProductInformation>" for code, value in i.extended]
    out += ["</ExtendedInformation>", "<ProductAttributes>"]
    for n, p in enumerate(i.attributes, 1):
        uom = f" AttributeUOM={quoteattr(p.uom)}" if p.uom else ""
        out.append(f"  <ProductAttribute {a} AttributeID={quoteattr(p.attribute_id)} "
                   f'PADBAttribute="{"Y" if p.padb else "N"}"{uom} RecordNumber="{n}">'
                   f"{escape(p.value)}</ProductAttribute>")
    out += ["</ProductAttributes>", "<Packages>"]
    for uom, eaches, weight in i.packages:
        dims = "".join(_el(f"{kind}{side}", f"{size:.1f}") for kind in ("Merchandising", "Shipping")
                       for side, size in (("Height", 3.0 * eaches), ("Width", 4.5), ("Length", 6.0)))
        out.append(f"  <Package {a}>{_el('PackageUOM', uom)}{_el('QuantityofEaches', eaches)}"
                   f'<Dimensions UOM="IN">{dims}</Dimensions><Weights UOM="PG">{_el("Weight", weight)}</Weights>'
                   "</Package>")
    out.append("</Packages>")
    if i.interchanges:
        out.append("<PartInterchangeInfo>")
        out += [f"  <PartInterchange {a} BrandAAIAID={quoteattr(brand)} BrandLabel={quoteattr(brand + ' Parts')}>"
                f"{_el('PartNumber', part)}</PartInterchange>" for brand, part in i.interchanges]
        out.append("</PartInterchangeInfo>")
    out.append("<DigitalAssets>")
    out += [f'  <DigitalFileInformation {a} LanguageCode="EN">{_el("FileName", s.file_name)}'
            f'{_el("AssetType", s.asset_type)}{_el("FileType", "JPG")}{_el("Representation", "A")}'
            f'{_el("URI", s.uri)}</DigitalFileInformation>' for s in i.assets]
    out.append("</DigitalAssets>")
    return '    <Item MaintenanceType="A">\n' + "".join(f"      {line}\n" for line in out) + "    </Item>\n"
