-- AutoCare PCdb (Product Classification database): tables, columns, keys and foreign keys with AutoCare's exact,
-- quoted names, written for vcdb-stream from the published AutoCare-style PostgreSQL DDL
-- (see ../shared/reference/autocare_schema.json for the sources of each table).
-- Parsed by schemas/ddl.py with sqlglot; replace this file with the next AutoCare DDL and
-- run `vcdb schema generate`. Tables without a PRIMARY KEY are keyed in schemas/keys.py.

CREATE TABLE "ACESCodedValues" (
    "Element" VARCHAR(255),
    "Attribute" VARCHAR(255),
    "CodedValue" VARCHAR(255),
    "CodeDescription" VARCHAR(255)
);

CREATE TABLE "Alias" (
    "AliasID" INTEGER NOT NULL,
    "AliasName" VARCHAR(100) NOT NULL,
    CONSTRAINT "PK_Alias" PRIMARY KEY ("AliasID")
);

CREATE TABLE "Categories" (
    "CategoryID" INTEGER NOT NULL,
    "CategoryName" VARCHAR(100) NOT NULL,
    CONSTRAINT "PK_Categories" PRIMARY KEY ("CategoryID")
);

CREATE TABLE "ChangeAttributeStates" (
    "ChangeAttributeStateID" INTEGER NOT NULL,
    "ChangeAttributeState" VARCHAR(255) NOT NULL,
    CONSTRAINT "PK_ChangeAttributeStates" PRIMARY KEY ("ChangeAttributeStateID")
);

CREATE TABLE "ChangeDetails" (
    "ChangeDetailID" INTEGER NOT NULL,
    "ChangeID" INTEGER NOT NULL,
    "ChangeAttributeStateID" INTEGER NOT NULL,
    "TableNameID" INTEGER NOT NULL,
    "PrimaryKeyColumnName" VARCHAR(255),
    "PrimaryKeyBefore" INTEGER,
    "PrimaryKeyAfter" INTEGER,
    "ColumnName" VARCHAR(255),
    "ColumnValueBefore" VARCHAR(1000),
    "ColumnValueAfter" VARCHAR(1000),
    CONSTRAINT "PK_ChangeDetails" PRIMARY KEY ("ChangeDetailID"),
    CONSTRAINT "FK_ChangeDetails_Changes_ChangeID" FOREIGN KEY ("ChangeID") REFERENCES "Changes" ("ChangeID"),
    CONSTRAINT "FK_ChangeDetails_ChangeAttributeStates_ChangeAttributeStateID" FOREIGN KEY ("ChangeAttributeStateID") REFERENCES "ChangeAttributeStates" ("ChangeAttributeStateID"),
    CONSTRAINT "FK_ChangeDetails_ChangeTableNames_TableNameID" FOREIGN KEY ("TableNameID") REFERENCES "ChangeTableNames" ("TableNameID")
);

CREATE TABLE "ChangeReasons" (
    "ChangeReasonID" INTEGER NOT NULL,
    "ChangeReason" VARCHAR(255) NOT NULL,
    CONSTRAINT "PK_ChangeReasons" PRIMARY KEY ("ChangeReasonID")
);

CREATE TABLE "ChangeTableNames" (
    "TableNameID" INTEGER NOT NULL,
    "TableName" VARCHAR(255) NOT NULL,
    "TableDescription" VARCHAR(1000),
    CONSTRAINT "PK_ChangeTableNames" PRIMARY KEY ("TableNameID")
);

CREATE TABLE "Changes" (
    "ChangeID" INTEGER NOT NULL,
    "RequestID" INTEGER NOT NULL,
    "ChangeReasonID" INTEGER NOT NULL,
    "RevDate" TIMESTAMP,
    CONSTRAINT "PK_Changes" PRIMARY KEY ("ChangeID"),
    CONSTRAINT "FK_Changes_ChangeReasons_ChangeReasonID" FOREIGN KEY ("ChangeReasonID") REFERENCES "ChangeReasons" ("ChangeReasonID")
);

CREATE TABLE "CodeMaster" (
    "CodeMasterID" INTEGER NOT NULL,
    "PartTerminologyID" INTEGER NOT NULL,
    "CategoryID" INTEGER NOT NULL,
    "SubCategoryID" INTEGER NOT NULL,
    "PositionID" INTEGER NOT NULL,
    "RevDate" DATE NOT NULL,
    CONSTRAINT "PK_CodeMaster" PRIMARY KEY ("CodeMasterID"),
    CONSTRAINT "FK_CodeMaster_Categories_CategoryID" FOREIGN KEY ("CategoryID") REFERENCES "Categories" ("CategoryID"),
    CONSTRAINT "FK_CodeMaster_Parts_PartTerminologyID" FOREIGN KEY ("PartTerminologyID") REFERENCES "Parts" ("PartTerminologyID"),
    CONSTRAINT "FK_CodeMaster_Positions_PositionID" FOREIGN KEY ("PositionID") REFERENCES "Positions" ("PositionID"),
    CONSTRAINT "FK_CodeMaster_Subcategories_SubCategoryID" FOREIGN KEY ("SubCategoryID") REFERENCES "Subcategories" ("SubCategoryID")
);

CREATE TABLE "PIESCode" (
    "PIESCodeId" INTEGER NOT NULL,
    "CodeValue" VARCHAR(255) NOT NULL,
    "CodeFormat" VARCHAR(255) NOT NULL,
    "FieldFormat" VARCHAR(255),
    "CodeDescription" VARCHAR(255) NOT NULL,
    "Source" VARCHAR(255),
    CONSTRAINT "PK_PIESCode" PRIMARY KEY ("PIESCodeId")
);

CREATE TABLE "PIESExpiCode" (
    "PIESExpiCodeId" INTEGER NOT NULL,
    "ExpiCode" VARCHAR(50) NOT NULL,
    "ExpiCodeDescription" VARCHAR(255) NOT NULL,
    "PIESExpiGroupId" INTEGER NOT NULL,
    CONSTRAINT "PK_PIESExpiCode" PRIMARY KEY ("PIESExpiCodeId"),
    CONSTRAINT "FK_PIESExpiCode_PIESExpiGroup_PIESExpiGroupId" FOREIGN KEY ("PIESExpiGroupId") REFERENCES "PIESExpiGroup" ("PIESExpiGroupId")
);

CREATE TABLE "PIESExpiGroup" (
    "PIESExpiGroupId" INTEGER NOT NULL,
    "ExpiGroupCode" VARCHAR(255) NOT NULL,
    "ExpiGroupDescription" VARCHAR(255) NOT NULL,
    CONSTRAINT "PK_PIESExpiGroup" PRIMARY KEY ("PIESExpiGroupId")
);

CREATE TABLE "PIESField" (
    "PIESFieldId" INTEGER NOT NULL,
    "FieldName" VARCHAR(255) NOT NULL,
    "ReferenceFieldNumber" VARCHAR(255) NOT NULL,
    "PIESSegmentId" INTEGER NOT NULL,
    CONSTRAINT "PK_PIESField" PRIMARY KEY ("PIESFieldId"),
    CONSTRAINT "FK_PIESField_PIESSegment_PIESSegmentId" FOREIGN KEY ("PIESSegmentId") REFERENCES "PIESSegment" ("PIESSegmentId")
);

CREATE TABLE "PIESReferenceFieldCode" (
    "PIESReferenceFieldCodeId" INTEGER NOT NULL,
    "PIESFieldId" INTEGER NOT NULL,
    "PIESCodeId" INTEGER NOT NULL,
    "PIESExpiCodeId" INTEGER,
    "ReferenceNotes" VARCHAR(2000),
    CONSTRAINT "PK_PIESReferenceFieldCode" PRIMARY KEY ("PIESReferenceFieldCodeId"),
    CONSTRAINT "FK_PIESReferenceFieldCode_PIESCode_PIESCodeId" FOREIGN KEY ("PIESCodeId") REFERENCES "PIESCode" ("PIESCodeId"),
    CONSTRAINT "FK_PIESReferenceFieldCode_PIESExpiCode_PIESExpiCodeId" FOREIGN KEY ("PIESExpiCodeId") REFERENCES "PIESExpiCode" ("PIESExpiCodeId"),
    CONSTRAINT "FK_PIESReferenceFieldCode_PIESField_PIESFieldId" FOREIGN KEY ("PIESFieldId") REFERENCES "PIESField" ("PIESFieldId")
);

CREATE TABLE "PIESSegment" (
    "PIESSegmentId" INTEGER NOT NULL,
    "SegmentAbb" VARCHAR(50) NOT NULL,
    "SegmentName" VARCHAR(50) NOT NULL,
    "SegmentDescription" VARCHAR(250) NOT NULL,
    CONSTRAINT "PK_PIESSegment" PRIMARY KEY ("PIESSegmentId")
);

CREATE TABLE "PartCategory" (
    "PartCategoryID" INTEGER NOT NULL,
    "PartTerminologyID" INTEGER NOT NULL,
    "SubCategoryID" INTEGER NOT NULL,
    "CategoryID" INTEGER NOT NULL,
    CONSTRAINT "PK_PartCategory" PRIMARY KEY ("PartCategoryID"),
    CONSTRAINT "FK_PartCategory_Categories_CategoryID" FOREIGN KEY ("CategoryID") REFERENCES "Categories" ("CategoryID"),
    CONSTRAINT "FK_PartCategory_Parts_PartTerminologyID" FOREIGN KEY ("PartTerminologyID") REFERENCES "Parts" ("PartTerminologyID"),
    CONSTRAINT "FK_PartCategory_Subcategories_SubCategoryID" FOREIGN KEY ("SubCategoryID") REFERENCES "Subcategories" ("SubCategoryID")
);

CREATE TABLE "PartPosition" (
    "PartPositionID" INTEGER NOT NULL,
    "PartTerminologyID" INTEGER NOT NULL,
    "PositionID" INTEGER NOT NULL,
    "RevDate" DATE,
    CONSTRAINT "PK_PartPosition" PRIMARY KEY ("PartPositionID"),
    CONSTRAINT "FK_PartPosition_Parts_PartTerminologyID" FOREIGN KEY ("PartTerminologyID") REFERENCES "Parts" ("PartTerminologyID"),
    CONSTRAINT "FK_PartPosition_Positions_PositionID" FOREIGN KEY ("PositionID") REFERENCES "Positions" ("PositionID")
);

CREATE TABLE "Parts" (
    "PartTerminologyID" INTEGER NOT NULL,
    "PartTerminologyName" VARCHAR(500) NOT NULL,
    "PartsDescriptionID" INTEGER,
    "RevDate" DATE,
    CONSTRAINT "PK_Parts" PRIMARY KEY ("PartTerminologyID"),
    CONSTRAINT "FK_Parts_PartsDescription_PartsDescriptionID" FOREIGN KEY ("PartsDescriptionID") REFERENCES "PartsDescription" ("PartsDescriptionID")
);

CREATE TABLE "PartsDescription" (
    "PartsDescriptionID" INTEGER NOT NULL,
    "PartsDescription" VARCHAR(500) NOT NULL,
    CONSTRAINT "PK_PartsDescription" PRIMARY KEY ("PartsDescriptionID")
);

CREATE TABLE "PartsRelationship" (
    "PartTerminologyID" INTEGER NOT NULL,
    "RelatedPartTerminologyID" INTEGER NOT NULL,
    CONSTRAINT "FK_PartsRelationship_Parts_PartTerminologyID" FOREIGN KEY ("PartTerminologyID") REFERENCES "Parts" ("PartTerminologyID"),
    CONSTRAINT "FK_PartsRelationship_Parts_RelatedPartTerminologyID" FOREIGN KEY ("RelatedPartTerminologyID") REFERENCES "Parts" ("PartTerminologyID")
);

CREATE TABLE "PartsSupersession" (
    "PartsSupersessionId" INTEGER NOT NULL,
    "OldPartTerminologyID" INTEGER NOT NULL,
    "OldPartTerminologyName" VARCHAR(256) NOT NULL,
    "NewPartTerminologyID" INTEGER NOT NULL,
    "NewPartTerminologyName" VARCHAR(256) NOT NULL,
    "RevDate" DATE,
    "Note" VARCHAR(1000)
);

CREATE TABLE "PartsToAlias" (
    "PartTerminologyID" INTEGER NOT NULL,
    "AliasID" INTEGER NOT NULL,
    CONSTRAINT "FK_PartsToAlias_Alias_AliasID" FOREIGN KEY ("AliasID") REFERENCES "Alias" ("AliasID"),
    CONSTRAINT "FK_PartsToAlias_Parts_PartTerminologyID" FOREIGN KEY ("PartTerminologyID") REFERENCES "Parts" ("PartTerminologyID")
);

CREATE TABLE "PartsToUse" (
    "PartTerminologyID" INTEGER NOT NULL,
    "UseID" INTEGER NOT NULL,
    CONSTRAINT "FK_PartsToUse_Parts_PartTerminologyID" FOREIGN KEY ("PartTerminologyID") REFERENCES "Parts" ("PartTerminologyID"),
    CONSTRAINT "FK_PartsToUse_Use_UseID" FOREIGN KEY ("UseID") REFERENCES "Use" ("UseID")
);

CREATE TABLE "Positions" (
    "PositionID" INTEGER NOT NULL,
    "Position" VARCHAR(500) NOT NULL,
    CONSTRAINT "PK_Positions" PRIMARY KEY ("PositionID")
);

CREATE TABLE "Subcategories" (
    "SubCategoryID" INTEGER NOT NULL,
    "SubCategoryName" VARCHAR(100) NOT NULL,
    CONSTRAINT "PK_Subcategories" PRIMARY KEY ("SubCategoryID")
);

CREATE TABLE "Use" (
    "UseID" INTEGER NOT NULL,
    "UseDescription" VARCHAR(100) NOT NULL,
    CONSTRAINT "PK_Use" PRIMARY KEY ("UseID")
);

CREATE TABLE "Version" (
    "VersionDate" TIMESTAMP NOT NULL
);
