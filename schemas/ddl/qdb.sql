-- AutoCare Qdb (Qualifier database): tables, columns, keys and foreign keys with AutoCare's exact,
-- quoted names, written for vcdb-stream from the published AutoCare-style PostgreSQL DDL
-- (see ../shared/reference/autocare_schema.json for the sources of each table).
-- Parsed by schemas/ddl.py with sqlglot; replace this file with the next AutoCare DDL and
-- run `vcdb schema generate`. Tables without a PRIMARY KEY are keyed in schemas/keys.py.

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

CREATE TABLE "GroupNumber" (
    "GroupNumberID" INTEGER NOT NULL,
    "GroupDescription" VARCHAR(100) NOT NULL,
    CONSTRAINT "PK_GroupNumber" PRIMARY KEY ("GroupNumberID")
);

CREATE TABLE "Language" (
    "LanguageID" INTEGER NOT NULL,
    "LanguageName" VARCHAR(50),
    "DialectName" VARCHAR(50),
    CONSTRAINT "PK_Language" PRIMARY KEY ("LanguageID")
);

CREATE TABLE "QdbChanges" (
    "VersionDate" TIMESTAMP,
    "QualifierID" INTEGER,
    "QualifierText" VARCHAR(500),
    "Action" CHAR(1)
);

CREATE TABLE "Qualifier" (
    "QualifierID" INTEGER NOT NULL,
    "QualifierText" VARCHAR(500),
    "ExampleText" VARCHAR(500),
    "QualifierTypeID" INTEGER NOT NULL,
    "NewQualifierID" INTEGER,
    "WhenModified" TIMESTAMP NOT NULL,
    CONSTRAINT "PK_Qualifier" PRIMARY KEY ("QualifierID"),
    CONSTRAINT "FK_Qualifier_QualifierType_QualifierTypeID" FOREIGN KEY ("QualifierTypeID") REFERENCES "QualifierType" ("QualifierTypeID")
);

CREATE TABLE "QualifierGroup" (
    "QualifierGroupID" INTEGER NOT NULL,
    "GroupNumberID" INTEGER NOT NULL,
    "QualifierID" INTEGER NOT NULL,
    CONSTRAINT "PK_QualifierGroup" PRIMARY KEY ("QualifierGroupID"),
    CONSTRAINT "FK_QualifierGroup_Qualifier_QualifierID" FOREIGN KEY ("QualifierID") REFERENCES "Qualifier" ("QualifierID"),
    CONSTRAINT "FK_QualifierGroup_GroupNumber_GroupNumberID" FOREIGN KEY ("GroupNumberID") REFERENCES "GroupNumber" ("GroupNumberID")
);

CREATE TABLE "QualifierTranslation" (
    "QualifierTranslationID" INTEGER NOT NULL,
    "QualifierID" INTEGER NOT NULL,
    "LanguageID" INTEGER NOT NULL,
    "TranslationText" VARCHAR(500) NOT NULL,
    CONSTRAINT "PK_QualifierTranslation" PRIMARY KEY ("QualifierTranslationID"),
    CONSTRAINT "FK_QualifierTranslation_Qualifier_QualifierID" FOREIGN KEY ("QualifierID") REFERENCES "Qualifier" ("QualifierID"),
    CONSTRAINT "FK_QualifierTranslation_Language_LanguageID" FOREIGN KEY ("LanguageID") REFERENCES "Language" ("LanguageID")
);

CREATE TABLE "QualifierType" (
    "QualifierTypeID" INTEGER NOT NULL,
    "QualifierType" VARCHAR(50),
    CONSTRAINT "PK_QualifierType" PRIMARY KEY ("QualifierTypeID")
);

CREATE TABLE "Version" (
    "VersionDate" TIMESTAMP NOT NULL
);
