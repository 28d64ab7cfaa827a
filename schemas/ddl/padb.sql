-- AutoCare PAdb (Part Attribute database): tables, columns, keys and foreign keys with AutoCare's exact,
-- quoted names, written for vcdb-stream from the published AutoCare-style PostgreSQL DDL
-- (see ../shared/reference/autocare_schema.json for the sources of each table).
-- Parsed by schemas/ddl.py with sqlglot; replace this file with the next AutoCare DDL and
-- run `vcdb schema generate`. Tables without a PRIMARY KEY are keyed in schemas/keys.py.

CREATE TABLE "MeasurementGroup" (
    "MeasurementGroupID" INTEGER NOT NULL,
    "MeasurementGroupName" VARCHAR(80),
    CONSTRAINT "PK_MeasurementGroup" PRIMARY KEY ("MeasurementGroupID")
);

CREATE TABLE "MetaData" (
    "MetaID" INTEGER NOT NULL,
    "MetaName" VARCHAR(80),
    "MetaDescr" VARCHAR(512),
    "MetaFormat" VARCHAR(10),
    "DataType" VARCHAR(50),
    "MinLength" INTEGER,
    "MaxLength" INTEGER,
    CONSTRAINT "PK_MetaData" PRIMARY KEY ("MetaID")
);

CREATE TABLE "MetaUomCodeAssignment" (
    "MetaUomCodeAssignmentID" INTEGER NOT NULL,
    "PAPTID" INTEGER NOT NULL,
    "MetaUomID" INTEGER NOT NULL,
    CONSTRAINT "PK_MetaUomCodeAssignment" PRIMARY KEY ("MetaUomCodeAssignmentID"),
    CONSTRAINT "FK_MetaUomCodeAssignment_MetaUOMCodes_MetaUomID" FOREIGN KEY ("MetaUomID") REFERENCES "MetaUOMCodes" ("MetaUomID"),
    CONSTRAINT "FK_MetaUomCodeAssignment_PartAttributeAssignment_PAPTID" FOREIGN KEY ("PAPTID") REFERENCES "PartAttributeAssignment" ("PAPTID")
);

CREATE TABLE "MetaUOMCodes" (
    "MetaUomID" INTEGER NOT NULL,
    "UOMCode" VARCHAR(10),
    "UOMDescription" VARCHAR(512),
    "UOMLabel" VARCHAR(10),
    "MeasurementGroupId" INTEGER NOT NULL,
    CONSTRAINT "PK_MetaUOMCodes" PRIMARY KEY ("MetaUomID"),
    CONSTRAINT "FK_MetaUOMCodes_MeasurementGroup_MeasurementGroupID" FOREIGN KEY ("MeasurementGroupId") REFERENCES "MeasurementGroup" ("MeasurementGroupID")
);

CREATE TABLE "PartAttributeAssignment" (
    "ID" INTEGER NOT NULL,
    "PAPTID" INTEGER NOT NULL,
    "PartTerminologyID" INTEGER NOT NULL,
    "PAID" INTEGER NOT NULL,
    "MetaID" INTEGER NOT NULL,
    CONSTRAINT "PK_PartAttributeAssignment" PRIMARY KEY ("PAPTID"),
    CONSTRAINT "FK_PartAttributeAssignment_MetaData_MetaID" FOREIGN KEY ("MetaID") REFERENCES "MetaData" ("MetaID"),
    CONSTRAINT "FK_PartAttributeAssignment_PartAttributes_PAID" FOREIGN KEY ("PAID") REFERENCES "PartAttributes" ("PAID")
);

CREATE TABLE "PartAttributeStyle" (
    "StyleID" INTEGER,
    "PAPTID" INTEGER
);

CREATE TABLE "PartAttributes" (
    "PAID" INTEGER NOT NULL,
    "PAName" VARCHAR(80),
    "PADescr" VARCHAR(512),
    CONSTRAINT "PK_PartAttributes" PRIMARY KEY ("PAID")
);

CREATE TABLE "PartTypeStyle" (
    "StyleID" INTEGER,
    "PartTerminologyID" INTEGER
);

CREATE TABLE "Style" (
    "StyleID" INTEGER,
    "StyleName" VARCHAR(225)
);

CREATE TABLE "ValidValueAssignment" (
    "ValidValueAssignmentID" INTEGER NOT NULL,
    "PAPTID" INTEGER NOT NULL,
    "ValidValueID" INTEGER NOT NULL,
    CONSTRAINT "PK_ValidValueAssignment" PRIMARY KEY ("ValidValueAssignmentID"),
    CONSTRAINT "FK_ValidValueAssignment_PartAttributeAssignment_PAPTID" FOREIGN KEY ("PAPTID") REFERENCES "PartAttributeAssignment" ("PAPTID"),
    CONSTRAINT "FK_ValidValueAssignment_ValidValues_ValidValueID" FOREIGN KEY ("ValidValueID") REFERENCES "ValidValues" ("ValidValueID")
);

CREATE TABLE "ValidValues" (
    "ValidValueID" INTEGER NOT NULL,
    "ValidValue" VARCHAR(500) NOT NULL,
    CONSTRAINT "PK_ValidValues" PRIMARY KEY ("ValidValueID")
);

CREATE TABLE "Version" (
    "PAdbVersion" VARCHAR(10),
    "PAdbPublication" DATE,
    "PCdbPublication" DATE
);
