-- PIES (product) files, as vcdb-stream keeps them: written for vcdb-stream from the public
-- description of PIES 7.2 (../shared/reference/aces-pies.md §2), not from AutoCare's XSD.
-- An item is keyed by (BrandAAIAID, PartNumber), the ACES join key (§2.5); its segments are
-- child tables keyed by the item and what distinguishes one entry from the next.  References
-- into PCdb are declared in schemas/references.py; code values are checked by schemas/rules.py.

CREATE TABLE "PiesFile" (
    "FileID" VARCHAR(32) NOT NULL,
    "FileName" VARCHAR(1000) NOT NULL,
    "Version" VARCHAR(5) NOT NULL,
    "SubmissionType" VARCHAR(10),
    "BlanketEffectiveDate" DATE,
    "ChangesSinceDate" DATE,
    "ParentDUNSNumber" VARCHAR(20),
    "ParentAAIAID" VARCHAR(4),
    "BrandOwnerAAIAID" VARCHAR(4),
    "CurrencyCode" VARCHAR(3),
    "LanguageCode" VARCHAR(3),
    "TechnicalContact" VARCHAR(100),
    "ContactEmail" VARCHAR(200),
    "PCdbVersionDate" DATE,
    "PAdbVersionDate" DATE,
    "TrailerItemCount" VARCHAR(50),
    "TransactionDate" DATE,
    "ItemCount" INTEGER NOT NULL,
    "UnknownElements" TEXT,
    CONSTRAINT "PK_PiesFile" PRIMARY KEY ("FileID")
);

CREATE TABLE "Item" (
    "BrandAAIAID" VARCHAR(4) NOT NULL,
    "PartNumber" VARCHAR(48) NOT NULL,
    "FileID" VARCHAR(32) NOT NULL,
    "MaintenanceType" VARCHAR(1) NOT NULL,
    "BrandLabel" VARCHAR(100),
    "SubBrandAAIAID" VARCHAR(4),
    "SubBrandLabel" VARCHAR(100),
    "HazardousMaterialCode" VARCHAR(1),
    "BaseItemID" VARCHAR(48),
    "ItemLevelGTIN" VARCHAR(14),
    "GTINQualifier" VARCHAR(2),
    "ACESApplications" VARCHAR(1),
    "ItemQuantitySize" VARCHAR(20),
    "ItemQuantitySizeUOM" VARCHAR(3),
    "ContainerType" VARCHAR(3),
    "QuantityPerApplication" VARCHAR(20),
    "QuantityPerApplicationUOM" VARCHAR(3),
    "ItemEffectiveDate" DATE,
    "AvailableDate" DATE,
    "MinimumOrderQuantity" VARCHAR(20),
    "MinimumOrderQuantityUOM" VARCHAR(3),
    "ManufacturerProductCodeGroup" VARCHAR(50),
    "ManufacturerProductCodeSubGroup" VARCHAR(50),
    "AAIAProductCategoryCode" VARCHAR(20),
    "UNSPSC" VARCHAR(20),
    "PartTerminologyID" INTEGER,
    "VMRSCode" VARCHAR(20),
    "UnknownXml" TEXT,
    CONSTRAINT "PK_Item" PRIMARY KEY ("BrandAAIAID", "PartNumber")
);

CREATE TABLE "ItemDescription" (
    "BrandAAIAID" VARCHAR(4) NOT NULL,
    "PartNumber" VARCHAR(48) NOT NULL,
    "DescriptionCode" VARCHAR(3) NOT NULL,
    "LanguageCode" VARCHAR(3) NOT NULL,
    "Sequence" INTEGER NOT NULL,
    "MaintenanceType" VARCHAR(1) NOT NULL,
    "Description" VARCHAR(2000) NOT NULL,
    CONSTRAINT "PK_ItemDescription" PRIMARY KEY ("BrandAAIAID", "PartNumber", "DescriptionCode", "LanguageCode", "Sequence"),
    CONSTRAINT "FK_ItemDescription_Item" FOREIGN KEY ("BrandAAIAID", "PartNumber") REFERENCES "Item" ("BrandAAIAID", "PartNumber")
);

CREATE TABLE "ItemPrice" (
    "BrandAAIAID" VARCHAR(4) NOT NULL,
    "PartNumber" VARCHAR(48) NOT NULL,
    "PriceSheetNumber" VARCHAR(50) NOT NULL,
    "PriceType" VARCHAR(3) NOT NULL,
    "PriceBreak" VARCHAR(20) NOT NULL,
    "MaintenanceType" VARCHAR(1) NOT NULL,
    "CurrencyCode" VARCHAR(3),
    "EffectiveDate" DATE,
    "ExpirationDate" DATE,
    "Price" NUMERIC(14, 4) NOT NULL,
    "PriceUOM" VARCHAR(3) NOT NULL,
    "PriceTypeDescription" VARCHAR(100),
    "PriceBreakUOM" VARCHAR(3),
    "PriceMultiplier" VARCHAR(20),
    CONSTRAINT "PK_ItemPrice" PRIMARY KEY ("BrandAAIAID", "PartNumber", "PriceSheetNumber", "PriceType", "PriceBreak"),
    CONSTRAINT "FK_ItemPrice_Item" FOREIGN KEY ("BrandAAIAID", "PartNumber") REFERENCES "Item" ("BrandAAIAID", "PartNumber")
);

CREATE TABLE "ItemExtendedInfo" (
    "BrandAAIAID" VARCHAR(4) NOT NULL,
    "PartNumber" VARCHAR(48) NOT NULL,
    "EXPICode" VARCHAR(3) NOT NULL,
    "LanguageCode" VARCHAR(3) NOT NULL,
    "MaintenanceType" VARCHAR(1) NOT NULL,
    "Value" VARCHAR(2000) NOT NULL,
    CONSTRAINT "PK_ItemExtendedInfo" PRIMARY KEY ("BrandAAIAID", "PartNumber", "EXPICode", "LanguageCode"),
    CONSTRAINT "FK_ItemExtendedInfo_Item" FOREIGN KEY ("BrandAAIAID", "PartNumber") REFERENCES "Item" ("BrandAAIAID", "PartNumber")
);

CREATE TABLE "ItemAttribute" (
    "BrandAAIAID" VARCHAR(4) NOT NULL,
    "PartNumber" VARCHAR(48) NOT NULL,
    "AttributeID" VARCHAR(100) NOT NULL,
    "RecordNumber" INTEGER NOT NULL,
    "MaintenanceType" VARCHAR(1) NOT NULL,
    "PADBAttribute" VARCHAR(1) NOT NULL,
    "AttributeUOM" VARCHAR(3),
    "Value" VARCHAR(2000) NOT NULL,
    CONSTRAINT "PK_ItemAttribute" PRIMARY KEY ("BrandAAIAID", "PartNumber", "AttributeID", "RecordNumber"),
    CONSTRAINT "FK_ItemAttribute_Item" FOREIGN KEY ("BrandAAIAID", "PartNumber") REFERENCES "Item" ("BrandAAIAID", "PartNumber")
);

CREATE TABLE "ItemPackage" (
    "BrandAAIAID" VARCHAR(4) NOT NULL,
    "PartNumber" VARCHAR(48) NOT NULL,
    "PackageUOM" VARCHAR(3) NOT NULL,
    "MaintenanceType" VARCHAR(1) NOT NULL,
    "PackageLevelGTIN" VARCHAR(14),
    "PackageBarCodeCharacters" VARCHAR(50),
    "QuantityofEaches" INTEGER,
    "InnerQuantity" VARCHAR(20),
    "InnerQuantityUOM" VARCHAR(3),
    "DimensionsUOM" VARCHAR(3),
    "Height" VARCHAR(20),
    "Width" VARCHAR(20),
    "Length" VARCHAR(20),
    "WeightsUOM" VARCHAR(3),
    "Weight" VARCHAR(20),
    "DimensionalWeight" VARCHAR(20),
    CONSTRAINT "PK_ItemPackage" PRIMARY KEY ("BrandAAIAID", "PartNumber", "PackageUOM"),
    CONSTRAINT "FK_ItemPackage_Item" FOREIGN KEY ("BrandAAIAID", "PartNumber") REFERENCES "Item" ("BrandAAIAID", "PartNumber")
);

CREATE TABLE "ItemInterchange" (
    "BrandAAIAID" VARCHAR(4) NOT NULL,
    "PartNumber" VARCHAR(48) NOT NULL,
    "InterchangeBrandAAIAID" VARCHAR(4) NOT NULL,
    "InterchangePartNumber" VARCHAR(48) NOT NULL,
    "MaintenanceType" VARCHAR(1) NOT NULL,
    "InterchangeBrandLabel" VARCHAR(100),
    "ItemEquivalentUOM" VARCHAR(3),
    "QualityGradeLevel" VARCHAR(10),
    "InterchangeNotes" VARCHAR(2000),
    CONSTRAINT "PK_ItemInterchange" PRIMARY KEY ("BrandAAIAID", "PartNumber", "InterchangeBrandAAIAID", "InterchangePartNumber"),
    CONSTRAINT "FK_ItemInterchange_Item" FOREIGN KEY ("BrandAAIAID", "PartNumber") REFERENCES "Item" ("BrandAAIAID", "PartNumber")
);

CREATE TABLE "ItemDigitalAsset" (
    "BrandAAIAID" VARCHAR(4) NOT NULL,
    "PartNumber" VARCHAR(48) NOT NULL,
    "FileName" VARCHAR(80) NOT NULL,
    "MaintenanceType" VARCHAR(1) NOT NULL,
    "AssetID" VARCHAR(100),
    "AssetType" VARCHAR(3) NOT NULL,
    "FileType" VARCHAR(4),
    "Representation" VARCHAR(1),
    "Resolution" VARCHAR(20),
    "ColorMode" VARCHAR(3),
    "Background" VARCHAR(3),
    "OrientationView" VARCHAR(3),
    "FilePath" VARCHAR(500),
    "URI" VARCHAR(2000),
    "AssetDescription" VARCHAR(2000),
    CONSTRAINT "PK_ItemDigitalAsset" PRIMARY KEY ("BrandAAIAID", "PartNumber", "FileName"),
    CONSTRAINT "FK_ItemDigitalAsset_Item" FOREIGN KEY ("BrandAAIAID", "PartNumber") REFERENCES "Item" ("BrandAAIAID", "PartNumber")
);
