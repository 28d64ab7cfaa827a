"""Natural keys stay natural: no sequence defaults on AutoCare's ids

121 integer key columns of the canonical schemas (80 in VCdb, 21 PCdb, 9 PAdb, 11 Qdb) were
created SERIAL, SQLAlchemy's autoincrement for a single integer primary key: an INSERT without
the id would have invented one that AutoCare never issued.  Every id comes from AutoCare, so the
defaults go, and their sequences with them; the generator now emits `autoincrement=False`
(schemas/generate.py), so a later migration cannot bring them back.  ingest.runs.run_id and
ingest.dead_letters.dead_letter_id are ours and keep theirs.

The list is the state 0004 left (each column with the sequence PostgreSQL named for it), so
the downgrade re-creates exactly what it was.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 02:10:00.000000
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (schema, table, column, sequence)
SERIAL_COLUMNS = (
    ('autocare_padb', 'measurement_group', 'measurement_group_id', 'measurement_group_measurement_group_id_seq'),
    ('autocare_padb', 'meta_data', 'meta_id', 'meta_data_meta_id_seq'),
    ('autocare_padb', 'meta_uom_code_assignment', 'meta_uom_code_assignment_id', 'meta_uom_code_assignment_meta_uom_code_assignment_id_seq'),
    ('autocare_padb', 'meta_uom_codes', 'meta_uom_id', 'meta_uom_codes_meta_uom_id_seq'),
    ('autocare_padb', 'part_attribute_assignment', 'papt_id', 'part_attribute_assignment_papt_id_seq'),
    ('autocare_padb', 'part_attributes', 'pa_id', 'part_attributes_pa_id_seq'),
    ('autocare_padb', 'style', 'style_id', 'style_style_id_seq'),
    ('autocare_padb', 'valid_value_assignment', 'valid_value_assignment_id', 'valid_value_assignment_valid_value_assignment_id_seq'),
    ('autocare_padb', 'valid_values', 'valid_value_id', 'valid_values_valid_value_id_seq'),
    ('autocare_pcdb', 'alias', 'alias_id', 'alias_alias_id_seq'),
    ('autocare_pcdb', 'categories', 'category_id', 'categories_category_id_seq'),
    ('autocare_pcdb', 'change_attribute_states', 'change_attribute_state_id', 'change_attribute_states_change_attribute_state_id_seq'),
    ('autocare_pcdb', 'change_details', 'change_detail_id', 'change_details_change_detail_id_seq'),
    ('autocare_pcdb', 'change_reasons', 'change_reason_id', 'change_reasons_change_reason_id_seq'),
    ('autocare_pcdb', 'change_table_names', 'table_name_id', 'change_table_names_table_name_id_seq'),
    ('autocare_pcdb', 'changes', 'change_id', 'changes_change_id_seq'),
    ('autocare_pcdb', 'code_master', 'code_master_id', 'code_master_code_master_id_seq'),
    ('autocare_pcdb', 'part_category', 'part_category_id', 'part_category_part_category_id_seq'),
    ('autocare_pcdb', 'part_position', 'part_position_id', 'part_position_part_position_id_seq'),
    ('autocare_pcdb', 'parts', 'part_terminology_id', 'parts_part_terminology_id_seq'),
    ('autocare_pcdb', 'parts_description', 'parts_description_id', 'parts_description_parts_description_id_seq'),
    ('autocare_pcdb', 'pies_code', 'pies_code_id', 'pies_code_pies_code_id_seq'),
    ('autocare_pcdb', 'pies_expi_code', 'pies_expi_code_id', 'pies_expi_code_pies_expi_code_id_seq'),
    ('autocare_pcdb', 'pies_expi_group', 'pies_expi_group_id', 'pies_expi_group_pies_expi_group_id_seq'),
    ('autocare_pcdb', 'pies_field', 'pies_field_id', 'pies_field_pies_field_id_seq'),
    ('autocare_pcdb', 'pies_reference_field_code', 'pies_reference_field_code_id', 'pies_reference_field_code_pies_reference_field_code_id_seq'),
    ('autocare_pcdb', 'pies_segment', 'pies_segment_id', 'pies_segment_pies_segment_id_seq'),
    ('autocare_pcdb', 'positions', 'position_id', 'positions_position_id_seq'),
    ('autocare_pcdb', 'subcategories', 'sub_category_id', 'subcategories_sub_category_id_seq'),
    ('autocare_pcdb', 'use', 'use_id', 'use_use_id_seq'),
    ('autocare_qdb', 'change_attribute_states', 'change_attribute_state_id', 'change_attribute_states_change_attribute_state_id_seq'),
    ('autocare_qdb', 'change_details', 'change_detail_id', 'change_details_change_detail_id_seq'),
    ('autocare_qdb', 'change_reasons', 'change_reason_id', 'change_reasons_change_reason_id_seq'),
    ('autocare_qdb', 'change_table_names', 'table_name_id', 'change_table_names_table_name_id_seq'),
    ('autocare_qdb', 'changes', 'change_id', 'changes_change_id_seq'),
    ('autocare_qdb', 'group_number', 'group_number_id', 'group_number_group_number_id_seq'),
    ('autocare_qdb', 'language', 'language_id', 'language_language_id_seq'),
    ('autocare_qdb', 'qualifier', 'qualifier_id', 'qualifier_qualifier_id_seq'),
    ('autocare_qdb', 'qualifier_group', 'qualifier_group_id', 'qualifier_group_qualifier_group_id_seq'),
    ('autocare_qdb', 'qualifier_translation', 'qualifier_translation_id', 'qualifier_translation_qualifier_translation_id_seq'),
    ('autocare_qdb', 'qualifier_type', 'qualifier_type_id', 'qualifier_type_qualifier_type_id_seq'),
    ('autocare_vcdb', 'aspiration', 'aspiration_id', 'aspiration_aspiration_id_seq'),
    ('autocare_vcdb', 'attachment', 'attachment_id', 'attachment_attachment_id_seq'),
    ('autocare_vcdb', 'attachment_type', 'attachment_type_id', 'attachment_type_attachment_type_id_seq'),
    ('autocare_vcdb', 'base_vehicle', 'base_vehicle_id', 'base_vehicle_base_vehicle_id_seq'),
    ('autocare_vcdb', 'bed_config', 'bed_config_id', 'bed_config_bed_config_id_seq'),
    ('autocare_vcdb', 'bed_length', 'bed_length_id', 'bed_length_bed_length_id_seq'),
    ('autocare_vcdb', 'bed_type', 'bed_type_id', 'bed_type_bed_type_id_seq'),
    ('autocare_vcdb', 'body_num_doors', 'body_num_doors_id', 'body_num_doors_body_num_doors_id_seq'),
    ('autocare_vcdb', 'body_style_config', 'body_style_config_id', 'body_style_config_body_style_config_id_seq'),
    ('autocare_vcdb', 'body_type', 'body_type_id', 'body_type_body_type_id_seq'),
    ('autocare_vcdb', 'brake_abs', 'brake_abs_id', 'brake_abs_brake_abs_id_seq'),
    ('autocare_vcdb', 'brake_config', 'brake_config_id', 'brake_config_brake_config_id_seq'),
    ('autocare_vcdb', 'brake_system', 'brake_system_id', 'brake_system_brake_system_id_seq'),
    ('autocare_vcdb', 'brake_type', 'brake_type_id', 'brake_type_brake_type_id_seq'),
    ('autocare_vcdb', 'change_attribute_states', 'change_attribute_state_id', 'change_attribute_states_change_attribute_state_id_seq'),
    ('autocare_vcdb', 'change_details', 'change_detail_id', 'change_details_change_detail_id_seq'),
    ('autocare_vcdb', 'change_reasons', 'change_reason_id', 'change_reasons_change_reason_id_seq'),
    ('autocare_vcdb', 'change_table_names', 'table_name_id', 'change_table_names_table_name_id_seq'),
    ('autocare_vcdb', 'changes', 'change_id', 'changes_change_id_seq'),
    ('autocare_vcdb', 'class', 'class_id', 'class_class_id_seq'),
    ('autocare_vcdb', 'cylinder_head_type', 'cylinder_head_type_id', 'cylinder_head_type_cylinder_head_type_id_seq'),
    ('autocare_vcdb', 'drive_type', 'drive_type_id', 'drive_type_drive_type_id_seq'),
    ('autocare_vcdb', 'elec_controlled', 'elec_controlled_id', 'elec_controlled_elec_controlled_id_seq'),
    ('autocare_vcdb', 'engine_base', 'engine_base_id', 'engine_base_engine_base_id_seq'),
    ('autocare_vcdb', 'engine_base2', 'engine_base_id', 'engine_base2_engine_base_id_seq'),
    ('autocare_vcdb', 'engine_block', 'engine_block_id', 'engine_block_engine_block_id_seq'),
    ('autocare_vcdb', 'engine_bore_stroke', 'engine_bore_stroke_id', 'engine_bore_stroke_engine_bore_stroke_id_seq'),
    ('autocare_vcdb', 'engine_config', 'engine_config_id', 'engine_config_engine_config_id_seq'),
    ('autocare_vcdb', 'engine_config2', 'engine_config_id', 'engine_config2_engine_config_id_seq'),
    ('autocare_vcdb', 'engine_designation', 'engine_designation_id', 'engine_designation_engine_designation_id_seq'),
    ('autocare_vcdb', 'engine_version', 'engine_version_id', 'engine_version_engine_version_id_seq'),
    ('autocare_vcdb', 'engine_vin', 'engine_vin_id', 'engine_vin_engine_vin_id_seq'),
    ('autocare_vcdb', 'english_phrase', 'english_phrase_id', 'english_phrase_english_phrase_id_seq'),
    ('autocare_vcdb', 'fuel_delivery_config', 'fuel_delivery_config_id', 'fuel_delivery_config_fuel_delivery_config_id_seq'),
    ('autocare_vcdb', 'fuel_delivery_sub_type', 'fuel_delivery_sub_type_id', 'fuel_delivery_sub_type_fuel_delivery_sub_type_id_seq'),
    ('autocare_vcdb', 'fuel_delivery_type', 'fuel_delivery_type_id', 'fuel_delivery_type_fuel_delivery_type_id_seq'),
    ('autocare_vcdb', 'fuel_system_control_type', 'fuel_system_control_type_id', 'fuel_system_control_type_fuel_system_control_type_id_seq'),
    ('autocare_vcdb', 'fuel_system_design', 'fuel_system_design_id', 'fuel_system_design_fuel_system_design_id_seq'),
    ('autocare_vcdb', 'fuel_type', 'fuel_type_id', 'fuel_type_fuel_type_id_seq'),
    ('autocare_vcdb', 'ignition_system_type', 'ignition_system_type_id', 'ignition_system_type_ignition_system_type_id_seq'),
    ('autocare_vcdb', 'language', 'language_id', 'language_language_id_seq'),
    ('autocare_vcdb', 'language_translation', 'language_translation_id', 'language_translation_language_translation_id_seq'),
    ('autocare_vcdb', 'language_translation_attachment', 'language_translation_attachment_id', 'language_translation_attachme_language_translation_attachme_seq'),
    ('autocare_vcdb', 'make', 'make_id', 'make_make_id_seq'),
    ('autocare_vcdb', 'mfr', 'mfr_id', 'mfr_mfr_id_seq'),
    ('autocare_vcdb', 'mfr_body_code', 'mfr_body_code_id', 'mfr_body_code_mfr_body_code_id_seq'),
    ('autocare_vcdb', 'model', 'model_id', 'model_model_id_seq'),
    ('autocare_vcdb', 'power_output', 'power_output_id', 'power_output_power_output_id_seq'),
    ('autocare_vcdb', 'publication_stage', 'publication_stage_id', 'publication_stage_publication_stage_id_seq'),
    ('autocare_vcdb', 'region', 'region_id', 'region_region_id_seq'),
    ('autocare_vcdb', 'spring_type', 'spring_type_id', 'spring_type_spring_type_id_seq'),
    ('autocare_vcdb', 'spring_type_config', 'spring_type_config_id', 'spring_type_config_spring_type_config_id_seq'),
    ('autocare_vcdb', 'steering_config', 'steering_config_id', 'steering_config_steering_config_id_seq'),
    ('autocare_vcdb', 'steering_system', 'steering_system_id', 'steering_system_steering_system_id_seq'),
    ('autocare_vcdb', 'steering_type', 'steering_type_id', 'steering_type_steering_type_id_seq'),
    ('autocare_vcdb', 'submodel', 'submodel_id', 'submodel_submodel_id_seq'),
    ('autocare_vcdb', 'transmission', 'transmission_id', 'transmission_transmission_id_seq'),
    ('autocare_vcdb', 'transmission_base', 'transmission_base_id', 'transmission_base_transmission_base_id_seq'),
    ('autocare_vcdb', 'transmission_control_type', 'transmission_control_type_id', 'transmission_control_type_transmission_control_type_id_seq'),
    ('autocare_vcdb', 'transmission_mfr_code', 'transmission_mfr_code_id', 'transmission_mfr_code_transmission_mfr_code_id_seq'),
    ('autocare_vcdb', 'transmission_num_speeds', 'transmission_num_speeds_id', 'transmission_num_speeds_transmission_num_speeds_id_seq'),
    ('autocare_vcdb', 'transmission_type', 'transmission_type_id', 'transmission_type_transmission_type_id_seq'),
    ('autocare_vcdb', 'valves', 'valves_id', 'valves_valves_id_seq'),
    ('autocare_vcdb', 'vehicle', 'vehicle_id', 'vehicle_vehicle_id_seq'),
    ('autocare_vcdb', 'vehicle_to_bed_config', 'vehicle_to_bed_config_id', 'vehicle_to_bed_config_vehicle_to_bed_config_id_seq'),
    ('autocare_vcdb', 'vehicle_to_body_config', 'vehicle_to_body_config_id', 'vehicle_to_body_config_vehicle_to_body_config_id_seq'),
    ('autocare_vcdb', 'vehicle_to_body_style_config', 'vehicle_to_body_style_config_id', 'vehicle_to_body_style_config_vehicle_to_body_style_config_i_seq'),
    ('autocare_vcdb', 'vehicle_to_brake_config', 'vehicle_to_brake_config_id', 'vehicle_to_brake_config_vehicle_to_brake_config_id_seq'),
    ('autocare_vcdb', 'vehicle_to_class', 'vehicle_to_class_id', 'vehicle_to_class_vehicle_to_class_id_seq'),
    ('autocare_vcdb', 'vehicle_to_drive_type', 'vehicle_to_drive_type_id', 'vehicle_to_drive_type_vehicle_to_drive_type_id_seq'),
    ('autocare_vcdb', 'vehicle_to_engine_config', 'vehicle_to_engine_config_id', 'vehicle_to_engine_config_vehicle_to_engine_config_id_seq'),
    ('autocare_vcdb', 'vehicle_to_mfr_body_code', 'vehicle_to_mfr_body_code_id', 'vehicle_to_mfr_body_code_vehicle_to_mfr_body_code_id_seq'),
    ('autocare_vcdb', 'vehicle_to_spring_type_config', 'vehicle_to_spring_type_config_id', 'vehicle_to_spring_type_config_vehicle_to_spring_type_config_seq'),
    ('autocare_vcdb', 'vehicle_to_steering_config', 'vehicle_to_steering_config_id', 'vehicle_to_steering_config_vehicle_to_steering_config_id_seq'),
    ('autocare_vcdb', 'vehicle_to_transmission', 'vehicle_to_transmission_id', 'vehicle_to_transmission_vehicle_to_transmission_id_seq'),
    ('autocare_vcdb', 'vehicle_to_wheel_base', 'vehicle_to_wheel_base_id', 'vehicle_to_wheel_base_vehicle_to_wheel_base_id_seq'),
    ('autocare_vcdb', 'vehicle_type', 'vehicle_type_id', 'vehicle_type_vehicle_type_id_seq'),
    ('autocare_vcdb', 'vehicle_type_group', 'vehicle_type_group_id', 'vehicle_type_group_vehicle_type_group_id_seq'),
    ('autocare_vcdb', 'wheel_base', 'wheel_base_id', 'wheel_base_wheel_base_id_seq'),
    ('autocare_vcdb', 'year', 'year_id', 'year_year_id_seq'),
)


def _values() -> str:
    return ", ".join(f"('{s}', '{t}', '{c}', '{q}')" for s, t, c, q in SERIAL_COLUMNS)


def upgrade() -> None:
    # One statement: the default first (it depends on the sequence), then the sequence.
    op.execute(f"""
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT * FROM (VALUES {_values()}) AS v(s, t, c, q) LOOP
        EXECUTE format('ALTER TABLE %I.%I ALTER COLUMN %I DROP DEFAULT', r.s, r.t, r.c);
        EXECUTE format('DROP SEQUENCE IF EXISTS %I.%I', r.s, r.q);
    END LOOP;
END $$""")


def downgrade() -> None:
    op.execute(f"""
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT * FROM (VALUES {_values()}) AS v(s, t, c, q) LOOP
        EXECUTE format('CREATE SEQUENCE %I.%I AS integer OWNED BY %I.%I.%I', r.s, r.q, r.s, r.t, r.c);
        EXECUTE format('ALTER TABLE %I.%I ALTER COLUMN %I SET DEFAULT nextval(%L::regclass)',
                       r.s, r.t, r.c, format('%I.%I', r.s, r.q));
    END LOOP;
END $$""")
