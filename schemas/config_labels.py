"""The label of each VCdb configuration, as SQL (pure: strings only).

One place names a configuration: "2.8L V6 GAS Turbocharged", "6-speed Automatic Electronic",
"4-door Sedan".  The explorer's grid, vehicle page and vehicle's parts, and the fitment views'
`part_vehicle` (migrations 0004 and 0010: the part page and `vcdb fitment vehicles`) all build their
labels here, so one configuration reads the same everywhere.

A system's label reads name tables (`lookups`) joined to the rows of its chain in
schemas/aces.SYSTEMS; the ON clauses and the expression name those rows by `{Table}` placeholders
(`{link}` for the VehicleTo* row), which each caller fills with its own aliases.  An engine's liter
and cylinders come from its EngineBlock (VCdb 2.0) and else from its EngineBase: the two disagree
for some configurations, and the block is the newer record.  "N/A" words are left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from schemas import aces, naming

VCDB = naming.schema_name("vcdb")


@dataclass(frozen=True)
class Label:
    system: str  # schemas/aces.SYSTEMS key (class and mfr_body_code are not ACES systems)
    link: str  # the VehicleTo* table
    column: str  # the link's id column: what one configuration is
    lookups: tuple[tuple[str, str, str], ...]  # (VCdb table, alias, ON with {Table} placeholders)
    expression: str  # over the lookups' aliases and {Table} placeholders


def _na(expr: str) -> str:
    return f"nullif({expr}, 'N/A')"


LABELS: dict[str, Label] = {x.system: x for x in (
    Label("engine", "VehicleToEngineConfig", "engine_config_id",
          (("EngineBlock", "lbl_blk", "lbl_blk.engine_block_id = {EngineConfig2}.engine_block_id"),
           ("EngineBase", "lbl_eb", "lbl_eb.engine_base_id = {EngineConfig2}.engine_base_id"),
           ("FuelType", "lbl_ft", "lbl_ft.fuel_type_id = {EngineConfig2}.fuel_type_id"),
           ("Aspiration", "lbl_asp", "lbl_asp.aspiration_id = {EngineConfig2}.aspiration_id")),
          "concat_ws(' ', coalesce(lbl_blk.liter, lbl_eb.liter) || 'L', "
          "coalesce(lbl_blk.block_type, lbl_eb.block_type) || coalesce(lbl_blk.cylinders, lbl_eb.cylinders), "
          f"{_na('lbl_ft.fuel_type_name')}, {_na('lbl_asp.aspiration_name')})"),
    Label("transmission", "VehicleToTransmission", "transmission_id",
          (("TransmissionType", "lbl_tt", "lbl_tt.transmission_type_id = {TransmissionBase}.transmission_type_id"),
           ("TransmissionNumSpeeds", "lbl_tns",
            "lbl_tns.transmission_num_speeds_id = {TransmissionBase}.transmission_num_speeds_id"),
           ("TransmissionControlType", "lbl_tct",
            "lbl_tct.transmission_control_type_id = {TransmissionBase}.transmission_control_type_id")),
          f"concat_ws(' ', {_na('lbl_tns.transmission_num_speeds')} || '-speed', "
          f"{_na('lbl_tt.transmission_type_name')}, "
          f"{_na('lbl_tct.transmission_control_type_name')})"),
    Label("body_style", "VehicleToBodyStyleConfig", "body_style_config_id",
          (("BodyNumDoors", "lbl_bnd", "lbl_bnd.body_num_doors_id = {BodyStyleConfig}.body_num_doors_id"),
           ("BodyType", "lbl_bt", "lbl_bt.body_type_id = {BodyStyleConfig}.body_type_id")),
          f"concat_ws(' ', {_na('lbl_bnd.body_num_doors')} || '-door', {_na('lbl_bt.body_type_name')})"),
    Label("drive", "VehicleToDriveType", "drive_type_id",
          (("DriveType", "lbl_dt", "lbl_dt.drive_type_id = {link}.drive_type_id"),),
          "lbl_dt.drive_type_name"),
    Label("brake", "VehicleToBrakeConfig", "brake_config_id",
          (("BrakeType", "lbl_fb", "lbl_fb.brake_type_id = {BrakeConfig}.front_brake_type_id"),
           ("BrakeType", "lbl_rb", "lbl_rb.brake_type_id = {BrakeConfig}.rear_brake_type_id"),
           ("BrakeSystem", "lbl_bs", "lbl_bs.brake_system_id = {BrakeConfig}.brake_system_id"),
           ("BrakeABS", "lbl_ba", "lbl_ba.brake_abs_id = {BrakeConfig}.brake_abs_id")),
          "concat_ws(' ', 'front ' || lbl_fb.brake_type_name, 'rear ' || lbl_rb.brake_type_name, "
          f"{_na('lbl_bs.brake_system_name')}, {_na('lbl_ba.brake_abs_name')})"),
    Label("steering", "VehicleToSteeringConfig", "steering_config_id",
          (("SteeringType", "lbl_st", "lbl_st.steering_type_id = {SteeringConfig}.steering_type_id"),
           ("SteeringSystem", "lbl_ss", "lbl_ss.steering_system_id = {SteeringConfig}.steering_system_id")),
          f"concat_ws(' ', {_na('lbl_st.steering_type_name')}, {_na('lbl_ss.steering_system_name')})"),
    Label("spring", "VehicleToSpringTypeConfig", "spring_type_config_id",
          (("SpringType", "lbl_fs", "lbl_fs.spring_type_id = {SpringTypeConfig}.front_spring_type_id"),
           ("SpringType", "lbl_rs", "lbl_rs.spring_type_id = {SpringTypeConfig}.rear_spring_type_id")),
          "concat_ws(' ', 'front ' || lbl_fs.spring_type_name, 'rear ' || lbl_rs.spring_type_name)"),
    Label("wheel_base", "VehicleToWheelBase", "wheel_base_id",
          (("WheelBase", "lbl_wb", "lbl_wb.wheel_base_id = {link}.wheel_base_id"),),
          "concat_ws(' ', lbl_wb.wheel_base || ' in', '(' || lbl_wb.wheel_base_metric || ' mm)')"),
    Label("bed", "VehicleToBedConfig", "bed_config_id",
          (("BedLength", "lbl_bl", "lbl_bl.bed_length_id = {BedConfig}.bed_length_id"),
           ("BedType", "lbl_bdt", "lbl_bdt.bed_type_id = {BedConfig}.bed_type_id")),
          f"concat_ws(' ', lbl_bl.bed_length || ' in', {_na('lbl_bdt.bed_type_name')})"),
    Label("class", "VehicleToClass", "class_id", (("Class", "lbl_cl", "lbl_cl.class_id = {link}.class_id"),),
          "lbl_cl.class_name"),
    Label("mfr_body_code", "VehicleToMfrBodyCode", "mfr_body_code_id",
          (("MfrBodyCode", "lbl_mbc", "lbl_mbc.mfr_body_code_id = {link}.mfr_body_code_id"),),
          "lbl_mbc.mfr_body_code_name"),
)}


def _t(table: str) -> str:
    return f'"{VCDB}"."{naming.table_name(table)}"'


def _chain(system: str) -> tuple[aces.Join, ...]:
    """The joins of the system's chain up to the last row a label reads."""
    joins = aces.SYSTEMS[system].joins if system in aces.SYSTEMS else ()
    used = " ".join(on for _, _, on in LABELS[system].lookups)
    last = max((i for i, j in enumerate(joins) if "{" + j.table + "}" in used), default=-1)
    return joins[:last + 1]


def chain_aliases(system: str, prefix: str = "c_") -> dict[str, str]:
    """Aliases for the rows of a system's chain: {"link": ..., "EngineConfig2": ...}."""
    link = LABELS[system].link
    return {"link": prefix + naming.table_name(link), link: prefix + naming.table_name(link),
            **{j.table: prefix + naming.table_name(j.table) for j in _chain(system)}}


def lookups(system: str, at: Mapping[str, str]) -> str:
    """The LEFT JOINs of the name tables a label reads, its chain's rows aliased as in `at`."""
    return "".join(f" LEFT JOIN {_t(table)} {alias} ON {on.format(**at)}"
                   for table, alias, on in LABELS[system].lookups)


def expression(system: str, at: Mapping[str, str]) -> str:
    """The label (text, '' when nothing is known) over the chain aliased as in `at`, after `lookups`."""
    return LABELS[system].expression.format(**at)


def from_link(system: str, prefix: str = "c_", *, whole: bool = False) -> tuple[str, dict[str, str]]:
    """`FROM link LEFT JOIN chain... LEFT JOIN lookups...` and the aliases used: a link row whose
    configuration is missing keeps its row (labelled by id by `label`).  The chain stops at the last
    row the label reads, or with `whole` runs to its end (every row holding an ACES attribute)."""
    joins = aces.SYSTEMS[system].joins if whole and system in aces.SYSTEMS else _chain(system)
    link = LABELS[system].link
    at = {"link": prefix + naming.table_name(link), link: prefix + naming.table_name(link),
          **{j.table: prefix + naming.table_name(j.table) for j in joins}}
    chain = "".join(f" LEFT JOIN {_t(j.table)} {at[j.table]} ON "
                    f"{at[j.table]}.{naming.column_name(j.table, j.column)} = "
                    f"{at[j.previous]}.{naming.column_name(j.previous, j.previous_column)}" for j in joins)
    return f"FROM {_t(LABELS[system].link)} {at['link']}{chain}{lookups(system, at)}", at


def label(system: str, at: Mapping[str, str]) -> str:
    """The label, or '#id' when the names are missing."""
    column = f"{at['link']}.{LABELS[system].column}"
    return f"coalesce(nullif({expression(system, at)}, ''), '#' || {column})"
