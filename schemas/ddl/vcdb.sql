-- AutoCare VCdb (Vehicle Configuration database): tables, columns, keys and foreign keys with AutoCare's exact,
-- quoted names, written for vcdb-stream from the published AutoCare-style PostgreSQL DDL
-- (see ../shared/reference/autocare_schema.json for the sources of each table).
-- Parsed by schemas/ddl.py with sqlglot; replace this file with the next AutoCare DDL and
-- run `vcdb schema generate`. Tables without a PRIMARY KEY are keyed in schemas/keys.py.

CREATE TABLE "Abbreviation" (
    "Abbreviation" VARCHAR(3) NOT NULL,
    "Description" VARCHAR(20) NOT NULL,
    "LongDescription" VARCHAR(200) NOT NULL,
    CONSTRAINT "PK_Abbreviation" PRIMARY KEY ("Abbreviation")
);

CREATE TABLE "Aspiration" (
    "AspirationID" INTEGER NOT NULL,
    "AspirationName" VARCHAR(30) NOT NULL,
    CONSTRAINT "PK_Aspiration" PRIMARY KEY ("AspirationID")
);

CREATE TABLE "Attachment" (
    "AttachmentID" INTEGER NOT NULL,
    "AttachmentTypeID" INTEGER NOT NULL,
    "AttachmentFileName" VARCHAR(50) NOT NULL,
    "AttachmentURL" VARCHAR(100) NOT NULL,
    "AttachmentDescription" VARCHAR(50) NOT NULL,
    CONSTRAINT "PK_Attachment" PRIMARY KEY ("AttachmentID"),
    CONSTRAINT "FK_Attachment_AttachmentType_AttachmentTypeID" FOREIGN KEY ("AttachmentTypeID") REFERENCES "AttachmentType" ("AttachmentTypeID")
);

CREATE TABLE "AttachmentType" (
    "AttachmentTypeID" INTEGER NOT NULL,
    "AttachmentTypeName" VARCHAR(20) NOT NULL,
    CONSTRAINT "PK_AttachmentType" PRIMARY KEY ("AttachmentTypeID")
);

CREATE TABLE "BaseVehicle" (
    "BaseVehicleID" INTEGER NOT NULL,
    "YearID" INTEGER NOT NULL,
    "MakeID" INTEGER NOT NULL,
    "ModelID" INTEGER NOT NULL,
    CONSTRAINT "PK_BaseVehicle" PRIMARY KEY ("BaseVehicleID"),
    CONSTRAINT "FK_BaseVehicle_Year_YearID" FOREIGN KEY ("YearID") REFERENCES "Year" ("YearID"),
    CONSTRAINT "FK_BaseVehicle_Make_MakeID" FOREIGN KEY ("MakeID") REFERENCES "Make" ("MakeID"),
    CONSTRAINT "FK_BaseVehicle_Model_ModelID" FOREIGN KEY ("ModelID") REFERENCES "Model" ("ModelID")
);

CREATE TABLE "BedConfig" (
    "BedConfigID" INTEGER NOT NULL,
    "BedLengthID" INTEGER NOT NULL,
    "BedTypeID" INTEGER NOT NULL,
    CONSTRAINT "PK_BedConfig" PRIMARY KEY ("BedConfigID"),
    CONSTRAINT "FK_BedConfig_BedLength_BedLengthID" FOREIGN KEY ("BedLengthID") REFERENCES "BedLength" ("BedLengthID"),
    CONSTRAINT "FK_BedConfig_BedType_BedTypeID" FOREIGN KEY ("BedTypeID") REFERENCES "BedType" ("BedTypeID")
);

CREATE TABLE "BedLength" (
    "BedLengthID" INTEGER NOT NULL,
    "BedLength" VARCHAR(10) NOT NULL,
    "BedLengthMetric" VARCHAR(10) NOT NULL,
    CONSTRAINT "PK_BedLength" PRIMARY KEY ("BedLengthID")
);

CREATE TABLE "BedType" (
    "BedTypeID" INTEGER NOT NULL,
    "BedTypeName" VARCHAR(50) NOT NULL,
    CONSTRAINT "PK_BedType" PRIMARY KEY ("BedTypeID")
);

CREATE TABLE "BodyNumDoors" (
    "BodyNumDoorsID" INTEGER NOT NULL,
    "BodyNumDoors" VARCHAR(3) NOT NULL,
    CONSTRAINT "PK_BodyNumDoors" PRIMARY KEY ("BodyNumDoorsID")
);

CREATE TABLE "BodyStyleConfig" (
    "BodyStyleConfigID" INTEGER NOT NULL,
    "BodyNumDoorsID" INTEGER NOT NULL,
    "BodyTypeID" INTEGER NOT NULL,
    CONSTRAINT "PK_BodyStyleConfig" PRIMARY KEY ("BodyStyleConfigID"),
    CONSTRAINT "FK_BodyStyleConfig_BodyNumDoors_BodyNumDoorsID" FOREIGN KEY ("BodyNumDoorsID") REFERENCES "BodyNumDoors" ("BodyNumDoorsID"),
    CONSTRAINT "FK_BodyStyleConfig_BodyType_BodyTypeID" FOREIGN KEY ("BodyTypeID") REFERENCES "BodyType" ("BodyTypeID")
);

CREATE TABLE "BodyType" (
    "BodyTypeID" INTEGER NOT NULL,
    "BodyTypeName" VARCHAR(50) NOT NULL,
    CONSTRAINT "PK_BodyType" PRIMARY KEY ("BodyTypeID")
);

CREATE TABLE "BrakeABS" (
    "BrakeABSID" INTEGER NOT NULL,
    "BrakeABSName" VARCHAR(30) NOT NULL,
    CONSTRAINT "PK_BrakeABS" PRIMARY KEY ("BrakeABSID")
);

CREATE TABLE "BrakeConfig" (
    "BrakeConfigID" INTEGER NOT NULL,
    "FrontBrakeTypeID" INTEGER NOT NULL,
    "RearBrakeTypeID" INTEGER NOT NULL,
    "BrakeSystemID" INTEGER NOT NULL,
    "BrakeABSID" INTEGER NOT NULL,
    CONSTRAINT "PK_BrakeConfig" PRIMARY KEY ("BrakeConfigID"),
    CONSTRAINT "FK_BrakeConfig_BrakeType_FrontBrakeTypeID" FOREIGN KEY ("FrontBrakeTypeID") REFERENCES "BrakeType" ("BrakeTypeID"),
    CONSTRAINT "FK_BrakeConfig_BrakeType_RearBrakeTypeID" FOREIGN KEY ("RearBrakeTypeID") REFERENCES "BrakeType" ("BrakeTypeID"),
    CONSTRAINT "FK_BrakeConfig_BrakeSystem_BrakeSystemID" FOREIGN KEY ("BrakeSystemID") REFERENCES "BrakeSystem" ("BrakeSystemID"),
    CONSTRAINT "FK_BrakeConfig_BrakeABS_BrakeABSID" FOREIGN KEY ("BrakeABSID") REFERENCES "BrakeABS" ("BrakeABSID")
);

CREATE TABLE "BrakeSystem" (
    "BrakeSystemID" INTEGER NOT NULL,
    "BrakeSystemName" VARCHAR(30) NOT NULL,
    CONSTRAINT "PK_BrakeSystem" PRIMARY KEY ("BrakeSystemID")
);

CREATE TABLE "BrakeType" (
    "BrakeTypeID" INTEGER NOT NULL,
    "BrakeTypeName" VARCHAR(30) NOT NULL,
    CONSTRAINT "PK_BrakeType" PRIMARY KEY ("BrakeTypeID")
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

CREATE TABLE "Class" (
    "ClassID" INTEGER NOT NULL,
    "ClassName" VARCHAR(30) NOT NULL,
    CONSTRAINT "PK_Class" PRIMARY KEY ("ClassID")
);

CREATE TABLE "CylinderHeadType" (
    "CylinderHeadTypeID" INTEGER NOT NULL,
    "CylinderHeadTypeName" VARCHAR(30) NOT NULL,
    CONSTRAINT "PK_CylinderHeadType" PRIMARY KEY ("CylinderHeadTypeID")
);

CREATE TABLE "DriveType" (
    "DriveTypeID" INTEGER NOT NULL,
    "DriveTypeName" VARCHAR(30) NOT NULL,
    CONSTRAINT "PK_DriveType" PRIMARY KEY ("DriveTypeID")
);

CREATE TABLE "ElecControlled" (
    "ElecControlledID" INTEGER NOT NULL,
    "ElecControlled" VARCHAR(3) NOT NULL,
    CONSTRAINT "PK_ElecControlled" PRIMARY KEY ("ElecControlledID")
);

CREATE TABLE "EngineBase" (
    "EngineBaseID" INTEGER NOT NULL,
    "Liter" VARCHAR(6) NOT NULL,
    "CC" VARCHAR(8) NOT NULL,
    "CID" VARCHAR(7) NOT NULL,
    "Cylinders" VARCHAR(2) NOT NULL,
    "BlockType" VARCHAR(2) NOT NULL,
    "EngBoreIn" VARCHAR(10) NOT NULL,
    "EngBoreMetric" VARCHAR(10) NOT NULL,
    "EngStrokeIn" VARCHAR(10) NOT NULL,
    "EngStrokeMetric" VARCHAR(10) NOT NULL,
    CONSTRAINT "PK_EngineBase" PRIMARY KEY ("EngineBaseID")
);

CREATE TABLE "EngineBase2" (
    "EngineBaseID" INTEGER NOT NULL,
    "EngineBlockID" INTEGER NOT NULL,
    "EngineBoreStrokeID" INTEGER NOT NULL,
    CONSTRAINT "PK_EngineBase2" PRIMARY KEY ("EngineBaseID"),
    CONSTRAINT "FK_EngineBase2_EngineBlock_EngineBlockID" FOREIGN KEY ("EngineBlockID") REFERENCES "EngineBlock" ("EngineBlockID"),
    CONSTRAINT "FK_EngineBase2_EngineBoreStroke_EngineBoreStrokeID" FOREIGN KEY ("EngineBoreStrokeID") REFERENCES "EngineBoreStroke" ("EngineBoreStrokeID")
);

CREATE TABLE "EngineBlock" (
    "EngineBlockID" INTEGER NOT NULL,
    "Liter" VARCHAR(6) NOT NULL,
    "CC" VARCHAR(8) NOT NULL,
    "CID" VARCHAR(7) NOT NULL,
    "Cylinders" VARCHAR(2) NOT NULL,
    "BlockType" VARCHAR(2) NOT NULL,
    CONSTRAINT "PK_EngineBlock" PRIMARY KEY ("EngineBlockID")
);

CREATE TABLE "EngineBoreStroke" (
    "EngineBoreStrokeID" INTEGER NOT NULL,
    "EngBoreIn" VARCHAR(10) NOT NULL,
    "EngBoreMetric" VARCHAR(10) NOT NULL,
    "EngStrokeIn" VARCHAR(10) NOT NULL,
    "EngStrokeMetric" VARCHAR(10) NOT NULL,
    CONSTRAINT "PK_EngineBoreStroke" PRIMARY KEY ("EngineBoreStrokeID")
);

CREATE TABLE "EngineConfig" (
    "EngineConfigID" INTEGER NOT NULL,
    "EngineDesignationID" INTEGER NOT NULL,
    "EngineVINID" INTEGER NOT NULL,
    "ValvesID" INTEGER NOT NULL,
    "EngineBaseID" INTEGER NOT NULL,
    "FuelDeliveryConfigID" INTEGER NOT NULL,
    "AspirationID" INTEGER NOT NULL,
    "CylinderHeadTypeID" INTEGER NOT NULL,
    "FuelTypeID" INTEGER NOT NULL,
    "IgnitionSystemTypeID" INTEGER NOT NULL,
    "EngineMfrID" INTEGER NOT NULL,
    "EngineVersionID" INTEGER NOT NULL,
    "PowerOutputID" INTEGER NOT NULL DEFAULT 1,
    CONSTRAINT "PK_EngineConfig" PRIMARY KEY ("EngineConfigID"),
    CONSTRAINT "FK_EngineConfig_EngineDesignation_EngineDesignationID" FOREIGN KEY ("EngineDesignationID") REFERENCES "EngineDesignation" ("EngineDesignationID"),
    CONSTRAINT "FK_EngineConfig_EngineVIN_EngineVINID" FOREIGN KEY ("EngineVINID") REFERENCES "EngineVIN" ("EngineVINID"),
    CONSTRAINT "FK_EngineConfig_Valves_ValvesID" FOREIGN KEY ("ValvesID") REFERENCES "Valves" ("ValvesID"),
    CONSTRAINT "FK_EngineConfig_EngineBase_EngineBaseID" FOREIGN KEY ("EngineBaseID") REFERENCES "EngineBase" ("EngineBaseID"),
    CONSTRAINT "FK_EngineConfig_FuelDeliveryConfig_FuelDeliveryConfigID" FOREIGN KEY ("FuelDeliveryConfigID") REFERENCES "FuelDeliveryConfig" ("FuelDeliveryConfigID"),
    CONSTRAINT "FK_EngineConfig_Aspiration_AspirationID" FOREIGN KEY ("AspirationID") REFERENCES "Aspiration" ("AspirationID"),
    CONSTRAINT "FK_EngineConfig_CylinderHeadType_CylinderHeadTypeID" FOREIGN KEY ("CylinderHeadTypeID") REFERENCES "CylinderHeadType" ("CylinderHeadTypeID"),
    CONSTRAINT "FK_EngineConfig_FuelType_FuelTypeID" FOREIGN KEY ("FuelTypeID") REFERENCES "FuelType" ("FuelTypeID"),
    CONSTRAINT "FK_EngineConfig_IgnitionSystemType_IgnitionSystemTypeID" FOREIGN KEY ("IgnitionSystemTypeID") REFERENCES "IgnitionSystemType" ("IgnitionSystemTypeID"),
    CONSTRAINT "FK_EngineConfig_Mfr_EngineMfrID" FOREIGN KEY ("EngineMfrID") REFERENCES "Mfr" ("MfrID"),
    CONSTRAINT "FK_EngineConfig_EngineVersion_EngineVersionID" FOREIGN KEY ("EngineVersionID") REFERENCES "EngineVersion" ("EngineVersionID")
);

CREATE TABLE "EngineConfig2" (
    "EngineConfigID" INTEGER NOT NULL,
    "EngineDesignationID" INTEGER NOT NULL,
    "EngineVINID" INTEGER NOT NULL,
    "ValvesID" INTEGER NOT NULL,
    "EngineBaseID" INTEGER NOT NULL,
    "EngineBlockID" INTEGER NOT NULL,
    "EngineBoreStrokeID" INTEGER NOT NULL,
    "FuelDeliveryConfigID" INTEGER NOT NULL,
    "AspirationID" INTEGER NOT NULL,
    "CylinderHeadTypeID" INTEGER NOT NULL,
    "FuelTypeID" INTEGER NOT NULL,
    "IgnitionSystemTypeID" INTEGER NOT NULL,
    "EngineMfrID" INTEGER NOT NULL,
    "EngineVersionID" INTEGER NOT NULL,
    "PowerOutputID" INTEGER NOT NULL DEFAULT 1,
    CONSTRAINT "PK_EngineConfig2" PRIMARY KEY ("EngineConfigID"),
    CONSTRAINT "FK_EngineConfig2_EngineDesignation_EngineDesignationID" FOREIGN KEY ("EngineDesignationID") REFERENCES "EngineDesignation" ("EngineDesignationID"),
    CONSTRAINT "FK_EngineConfig2_EngineVIN_EngineVINID" FOREIGN KEY ("EngineVINID") REFERENCES "EngineVIN" ("EngineVINID"),
    CONSTRAINT "FK_EngineConfig2_Valves_ValvesID" FOREIGN KEY ("ValvesID") REFERENCES "Valves" ("ValvesID"),
    CONSTRAINT "FK_EngineConfig2_EngineBase2_EngineBaseID" FOREIGN KEY ("EngineBaseID") REFERENCES "EngineBase2" ("EngineBaseID"),
    CONSTRAINT "FK_EngineConfig2_EngineBlock_EngineBlockID" FOREIGN KEY ("EngineBlockID") REFERENCES "EngineBlock" ("EngineBlockID"),
    CONSTRAINT "FK_EngineConfig2_EngineBoreStroke_EngineBoreStrokeID" FOREIGN KEY ("EngineBoreStrokeID") REFERENCES "EngineBoreStroke" ("EngineBoreStrokeID"),
    CONSTRAINT "FK_EngineConfig2_FuelDeliveryConfig_FuelDeliveryConfigID" FOREIGN KEY ("FuelDeliveryConfigID") REFERENCES "FuelDeliveryConfig" ("FuelDeliveryConfigID"),
    CONSTRAINT "FK_EngineConfig2_Aspiration_AspirationID" FOREIGN KEY ("AspirationID") REFERENCES "Aspiration" ("AspirationID"),
    CONSTRAINT "FK_EngineConfig2_CylinderHeadType_CylinderHeadTypeID" FOREIGN KEY ("CylinderHeadTypeID") REFERENCES "CylinderHeadType" ("CylinderHeadTypeID"),
    CONSTRAINT "FK_EngineConfig2_FuelType_FuelTypeID" FOREIGN KEY ("FuelTypeID") REFERENCES "FuelType" ("FuelTypeID"),
    CONSTRAINT "FK_EngineConfig2_IgnitionSystemType_IgnitionSystemTypeID" FOREIGN KEY ("IgnitionSystemTypeID") REFERENCES "IgnitionSystemType" ("IgnitionSystemTypeID"),
    CONSTRAINT "FK_EngineConfig2_Mfr_EngineMfrID" FOREIGN KEY ("EngineMfrID") REFERENCES "Mfr" ("MfrID"),
    CONSTRAINT "FK_EngineConfig2_EngineVersion_EngineVersionID" FOREIGN KEY ("EngineVersionID") REFERENCES "EngineVersion" ("EngineVersionID")
);

CREATE TABLE "EngineDesignation" (
    "EngineDesignationID" INTEGER NOT NULL,
    "EngineDesignationName" VARCHAR(30) NOT NULL,
    CONSTRAINT "PK_EngineDesignation" PRIMARY KEY ("EngineDesignationID")
);

CREATE TABLE "EngineVIN" (
    "EngineVINID" INTEGER NOT NULL,
    "EngineVINName" VARCHAR(5) NOT NULL,
    CONSTRAINT "PK_EngineVIN" PRIMARY KEY ("EngineVINID")
);

CREATE TABLE "EngineVersion" (
    "EngineVersionID" INTEGER NOT NULL,
    "EngineVersion" VARCHAR(20) NOT NULL,
    CONSTRAINT "PK_EngineVersion" PRIMARY KEY ("EngineVersionID")
);

CREATE TABLE "EnglishPhrase" (
    "EnglishPhraseID" INTEGER NOT NULL,
    "EnglishPhrase" VARCHAR(100) NOT NULL,
    CONSTRAINT "PK_EnglishPhrase" PRIMARY KEY ("EnglishPhraseID")
);

CREATE TABLE "FuelDeliveryConfig" (
    "FuelDeliveryConfigID" INTEGER NOT NULL,
    "FuelDeliveryTypeID" INTEGER NOT NULL,
    "FuelDeliverySubTypeID" INTEGER NOT NULL,
    "FuelSystemControlTypeID" INTEGER NOT NULL,
    "FuelSystemDesignID" INTEGER NOT NULL,
    CONSTRAINT "PK_FuelDeliveryConfig" PRIMARY KEY ("FuelDeliveryConfigID"),
    CONSTRAINT "FK_FuelDeliveryConfig_FuelDeliveryType_FuelDeliveryTypeID" FOREIGN KEY ("FuelDeliveryTypeID") REFERENCES "FuelDeliveryType" ("FuelDeliveryTypeID"),
    CONSTRAINT "FK_FuelDeliveryConfig_FuelDeliverySubType_FuelDeliverySubTypeID" FOREIGN KEY ("FuelDeliverySubTypeID") REFERENCES "FuelDeliverySubType" ("FuelDeliverySubTypeID"),
    CONSTRAINT "FK_FuelDeliveryConfig_FuelSystemControlType_FuelSystemControlTypeID" FOREIGN KEY ("FuelSystemControlTypeID") REFERENCES "FuelSystemControlType" ("FuelSystemControlTypeID"),
    CONSTRAINT "FK_FuelDeliveryConfig_FuelSystemDesign_FuelSystemDesignID" FOREIGN KEY ("FuelSystemDesignID") REFERENCES "FuelSystemDesign" ("FuelSystemDesignID")
);

CREATE TABLE "FuelDeliverySubType" (
    "FuelDeliverySubTypeID" INTEGER NOT NULL,
    "FuelDeliverySubTypeName" VARCHAR(50) NOT NULL,
    CONSTRAINT "PK_FuelDeliverySubType" PRIMARY KEY ("FuelDeliverySubTypeID")
);

CREATE TABLE "FuelDeliveryType" (
    "FuelDeliveryTypeID" INTEGER NOT NULL,
    "FuelDeliveryTypeName" VARCHAR(50) NOT NULL,
    CONSTRAINT "PK_FuelDeliveryType" PRIMARY KEY ("FuelDeliveryTypeID")
);

CREATE TABLE "FuelSystemControlType" (
    "FuelSystemControlTypeID" INTEGER NOT NULL,
    "FuelSystemControlTypeName" VARCHAR(50) NOT NULL,
    CONSTRAINT "PK_FuelSystemControlType" PRIMARY KEY ("FuelSystemControlTypeID")
);

CREATE TABLE "FuelSystemDesign" (
    "FuelSystemDesignID" INTEGER NOT NULL,
    "FuelSystemDesignName" VARCHAR(50) NOT NULL,
    CONSTRAINT "PK_FuelSystemDesign" PRIMARY KEY ("FuelSystemDesignID")
);

CREATE TABLE "FuelType" (
    "FuelTypeID" INTEGER NOT NULL,
    "FuelTypeName" VARCHAR(30) NOT NULL,
    CONSTRAINT "PK_FuelType" PRIMARY KEY ("FuelTypeID")
);

CREATE TABLE "IgnitionSystemType" (
    "IgnitionSystemTypeID" INTEGER NOT NULL,
    "IgnitionSystemTypeName" VARCHAR(30) NOT NULL,
    CONSTRAINT "PK_IgnitionSystemType" PRIMARY KEY ("IgnitionSystemTypeID")
);

CREATE TABLE "Language" (
    "LanguageID" INTEGER NOT NULL,
    "LanguageName" VARCHAR(20) NOT NULL,
    "DialectName" VARCHAR(20),
    CONSTRAINT "PK_Language" PRIMARY KEY ("LanguageID")
);

CREATE TABLE "LanguageTranslation" (
    "LanguageTranslationID" INTEGER NOT NULL,
    "EnglishPhraseID" INTEGER NOT NULL,
    "LanguageID" INTEGER NOT NULL,
    "Translation" VARCHAR(150) NOT NULL,
    CONSTRAINT "PK_LanguageTranslation" PRIMARY KEY ("LanguageTranslationID")
);

CREATE TABLE "LanguageTranslationAttachment" (
    "LanguageTranslationAttachmentID" INTEGER NOT NULL,
    "LanguageTranslationID" INTEGER NOT NULL,
    "AttachmentID" INTEGER NOT NULL,
    CONSTRAINT "PK_LanguageTranslationAttachment" PRIMARY KEY ("LanguageTranslationAttachmentID")
);

CREATE TABLE "Make" (
    "MakeID" INTEGER NOT NULL,
    "MakeName" VARCHAR(50) NOT NULL,
    CONSTRAINT "PK_Make" PRIMARY KEY ("MakeID")
);

CREATE TABLE "Mfr" (
    "MfrID" INTEGER NOT NULL,
    "MfrName" VARCHAR(30) NOT NULL,
    CONSTRAINT "PK_Mfr" PRIMARY KEY ("MfrID")
);

CREATE TABLE "MfrBodyCode" (
    "MfrBodyCodeID" INTEGER NOT NULL,
    "MfrBodyCodeName" VARCHAR(10) NOT NULL,
    CONSTRAINT "PK_MfrBodyCode" PRIMARY KEY ("MfrBodyCodeID")
);

CREATE TABLE "Model" (
    "ModelID" INTEGER NOT NULL,
    "ModelName" VARCHAR(100),
    "VehicleTypeID" INTEGER NOT NULL,
    CONSTRAINT "PK_Model" PRIMARY KEY ("ModelID"),
    CONSTRAINT "FK_Model_VehicleType_VehicleTypeID" FOREIGN KEY ("VehicleTypeID") REFERENCES "VehicleType" ("VehicleTypeID")
);

CREATE TABLE "PowerOutput" (
    "PowerOutputID" INTEGER NOT NULL,
    "HorsePower" VARCHAR(10) NOT NULL,
    "KilowattPower" VARCHAR(10) NOT NULL
);

CREATE TABLE "PublicationStage" (
    "PublicationStageID" INTEGER NOT NULL,
    "PublicationStageName" VARCHAR(100) NOT NULL,
    CONSTRAINT "PK_PublicationStage" PRIMARY KEY ("PublicationStageID")
);

CREATE TABLE "Region" (
    "RegionID" INTEGER NOT NULL,
    "ParentID" INTEGER,
    "RegionAbbr" VARCHAR(3),
    "RegionName" VARCHAR(30),
    CONSTRAINT "PK_Region" PRIMARY KEY ("RegionID"),
    CONSTRAINT "FK_Region_Region_ParentID" FOREIGN KEY ("ParentID") REFERENCES "Region" ("RegionID")
);

CREATE TABLE "SpringType" (
    "SpringTypeID" INTEGER NOT NULL,
    "SpringTypeName" VARCHAR(50) NOT NULL,
    CONSTRAINT "PK_SpringType" PRIMARY KEY ("SpringTypeID")
);

CREATE TABLE "SpringTypeConfig" (
    "SpringTypeConfigID" INTEGER NOT NULL,
    "FrontSpringTypeID" INTEGER NOT NULL,
    "RearSpringTypeID" INTEGER NOT NULL,
    CONSTRAINT "PK_SpringTypeConfig" PRIMARY KEY ("SpringTypeConfigID"),
    CONSTRAINT "FK_SpringTypeConfig_SpringType_FrontSpringTypeID" FOREIGN KEY ("FrontSpringTypeID") REFERENCES "SpringType" ("SpringTypeID"),
    CONSTRAINT "FK_SpringTypeConfig_SpringType_RearSpringTypeID" FOREIGN KEY ("RearSpringTypeID") REFERENCES "SpringType" ("SpringTypeID")
);

CREATE TABLE "SteeringConfig" (
    "SteeringConfigID" INTEGER NOT NULL,
    "SteeringTypeID" INTEGER NOT NULL,
    "SteeringSystemID" INTEGER NOT NULL,
    CONSTRAINT "PK_SteeringConfig" PRIMARY KEY ("SteeringConfigID"),
    CONSTRAINT "FK_SteeringConfig_SteeringType_SteeringTypeID" FOREIGN KEY ("SteeringTypeID") REFERENCES "SteeringType" ("SteeringTypeID"),
    CONSTRAINT "FK_SteeringConfig_SteeringSystem_SteeringSystemID" FOREIGN KEY ("SteeringSystemID") REFERENCES "SteeringSystem" ("SteeringSystemID")
);

CREATE TABLE "SteeringSystem" (
    "SteeringSystemID" INTEGER NOT NULL,
    "SteeringSystemName" VARCHAR(30) NOT NULL,
    CONSTRAINT "PK_SteeringSystem" PRIMARY KEY ("SteeringSystemID")
);

CREATE TABLE "SteeringType" (
    "SteeringTypeID" INTEGER NOT NULL,
    "SteeringTypeName" VARCHAR(30) NOT NULL,
    CONSTRAINT "PK_SteeringType" PRIMARY KEY ("SteeringTypeID")
);

CREATE TABLE "SubModel" (
    "SubmodelID" INTEGER NOT NULL,
    "SubModelName" VARCHAR(50) NOT NULL,
    CONSTRAINT "PK_SubModel" PRIMARY KEY ("SubmodelID")
);

CREATE TABLE "Transmission" (
    "TransmissionID" INTEGER NOT NULL,
    "TransmissionBaseID" INTEGER NOT NULL,
    "TransmissionMfrCodeID" INTEGER NOT NULL,
    "TransmissionElecControlledID" INTEGER NOT NULL,
    "TransmissionMfrID" INTEGER NOT NULL,
    CONSTRAINT "PK_Transmission" PRIMARY KEY ("TransmissionID"),
    CONSTRAINT "FK_Transmission_TransmissionBase_TransmissionBaseID" FOREIGN KEY ("TransmissionBaseID") REFERENCES "TransmissionBase" ("TransmissionBaseID"),
    CONSTRAINT "FK_Transmission_TransmissionMfrCode_TransmissionMfrCodeID" FOREIGN KEY ("TransmissionMfrCodeID") REFERENCES "TransmissionMfrCode" ("TransmissionMfrCodeID"),
    CONSTRAINT "FK_Transmission_ElecControlled_TransmissionElecControlledID" FOREIGN KEY ("TransmissionElecControlledID") REFERENCES "ElecControlled" ("ElecControlledID"),
    CONSTRAINT "FK_Transmission_Mfr_TransmissionMfrID" FOREIGN KEY ("TransmissionMfrID") REFERENCES "Mfr" ("MfrID")
);

CREATE TABLE "TransmissionBase" (
    "TransmissionBaseID" INTEGER NOT NULL,
    "TransmissionTypeID" INTEGER NOT NULL,
    "TransmissionNumSpeedsID" INTEGER NOT NULL,
    "TransmissionControlTypeID" INTEGER NOT NULL,
    CONSTRAINT "PK_TransmissionBase" PRIMARY KEY ("TransmissionBaseID"),
    CONSTRAINT "FK_TransmissionBase_TransmissionType_TransmissionTypeID" FOREIGN KEY ("TransmissionTypeID") REFERENCES "TransmissionType" ("TransmissionTypeID"),
    CONSTRAINT "FK_TransmissionBase_TransmissionNumSpeeds_TransmissionNumSpeedsID" FOREIGN KEY ("TransmissionNumSpeedsID") REFERENCES "TransmissionNumSpeeds" ("TransmissionNumSpeedsID"),
    CONSTRAINT "FK_TransmissionBase_TransmissionControlType_TransmissionControlTypeID" FOREIGN KEY ("TransmissionControlTypeID") REFERENCES "TransmissionControlType" ("TransmissionControlTypeID")
);

CREATE TABLE "TransmissionControlType" (
    "TransmissionControlTypeID" INTEGER NOT NULL,
    "TransmissionControlTypeName" VARCHAR(30) NOT NULL,
    CONSTRAINT "PK_TransmissionControlType" PRIMARY KEY ("TransmissionControlTypeID")
);

CREATE TABLE "TransmissionMfrCode" (
    "TransmissionMfrCodeID" INTEGER NOT NULL,
    "TransmissionMfrCode" VARCHAR(30) NOT NULL,
    CONSTRAINT "PK_TransmissionMfrCode" PRIMARY KEY ("TransmissionMfrCodeID")
);

CREATE TABLE "TransmissionNumSpeeds" (
    "TransmissionNumSpeedsID" INTEGER NOT NULL,
    "TransmissionNumSpeeds" CHAR(3) NOT NULL,
    CONSTRAINT "PK_TransmissionNumSpeeds" PRIMARY KEY ("TransmissionNumSpeedsID")
);

CREATE TABLE "TransmissionType" (
    "TransmissionTypeID" INTEGER NOT NULL,
    "TransmissionTypeName" VARCHAR(30) NOT NULL,
    CONSTRAINT "PK_TransmissionType" PRIMARY KEY ("TransmissionTypeID")
);

CREATE TABLE "VCdbChanges" (
    "VersionDate" TIMESTAMP NOT NULL,
    "TableName" VARCHAR(30) NOT NULL,
    "ID" INTEGER NOT NULL,
    "Action" VARCHAR(1) NOT NULL
);

CREATE TABLE "Valves" (
    "ValvesID" INTEGER NOT NULL,
    "ValvesPerEngine" VARCHAR(3) NOT NULL,
    CONSTRAINT "PK_Valves" PRIMARY KEY ("ValvesID")
);

CREATE TABLE "Vehicle" (
    "VehicleID" INTEGER NOT NULL,
    "BaseVehicleID" INTEGER NOT NULL,
    "SubmodelID" INTEGER NOT NULL,
    "RegionID" INTEGER NOT NULL,
    "Source" VARCHAR(10),
    "PublicationStageID" INTEGER NOT NULL DEFAULT 4,
    "PublicationStageSource" VARCHAR(100) NOT NULL,
    "PublicationStageDate" TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "PK_Vehicle" PRIMARY KEY ("VehicleID"),
    CONSTRAINT "FK_Vehicle_BaseVehicle_BaseVehicleID" FOREIGN KEY ("BaseVehicleID") REFERENCES "BaseVehicle" ("BaseVehicleID"),
    CONSTRAINT "FK_Vehicle_SubModel_SubmodelID" FOREIGN KEY ("SubmodelID") REFERENCES "SubModel" ("SubmodelID"),
    CONSTRAINT "FK_Vehicle_Region_RegionID" FOREIGN KEY ("RegionID") REFERENCES "Region" ("RegionID"),
    CONSTRAINT "FK_Vehicle_PublicationStage_PublicationStageID" FOREIGN KEY ("PublicationStageID") REFERENCES "PublicationStage" ("PublicationStageID")
);

CREATE TABLE "VehicleToBedConfig" (
    "VehicleToBedConfigID" INTEGER NOT NULL,
    "VehicleID" INTEGER NOT NULL,
    "BedConfigID" INTEGER NOT NULL,
    "Source" VARCHAR(10),
    CONSTRAINT "PK_VehicleToBedConfig" PRIMARY KEY ("VehicleToBedConfigID"),
    CONSTRAINT "FK_VehicleToBedConfig_Vehicle_VehicleID" FOREIGN KEY ("VehicleID") REFERENCES "Vehicle" ("VehicleID"),
    CONSTRAINT "FK_VehicleToBedConfig_BedConfig_BedConfigID" FOREIGN KEY ("BedConfigID") REFERENCES "BedConfig" ("BedConfigID")
);

CREATE TABLE "VehicleToBodyConfig" (
    "VehicleToBodyConfigID" INTEGER NOT NULL,
    "VehicleID" INTEGER NOT NULL,
    "WheelBaseID" INTEGER NOT NULL,
    "BedConfigID" INTEGER NOT NULL,
    "BodyStyleConfigID" INTEGER NOT NULL,
    "MfrBodyCodeID" INTEGER NOT NULL,
    "Source" VARCHAR(10),
    CONSTRAINT "PK_VehicleToBodyConfig" PRIMARY KEY ("VehicleToBodyConfigID"),
    CONSTRAINT "FK_VehicleToBodyConfig_Vehicle_VehicleID" FOREIGN KEY ("VehicleID") REFERENCES "Vehicle" ("VehicleID"),
    CONSTRAINT "FK_VehicleToBodyConfig_WheelBase_WheelBaseID" FOREIGN KEY ("WheelBaseID") REFERENCES "WheelBase" ("WheelBaseID"),
    CONSTRAINT "FK_VehicleToBodyConfig_BedConfig_BedConfigID" FOREIGN KEY ("BedConfigID") REFERENCES "BedConfig" ("BedConfigID"),
    CONSTRAINT "FK_VehicleToBodyConfig_BodyStyleConfig_BodyStyleConfigID" FOREIGN KEY ("BodyStyleConfigID") REFERENCES "BodyStyleConfig" ("BodyStyleConfigID"),
    CONSTRAINT "FK_VehicleToBodyConfig_MfrBodyCode_MfrBodyCodeID" FOREIGN KEY ("MfrBodyCodeID") REFERENCES "MfrBodyCode" ("MfrBodyCodeID")
);

CREATE TABLE "VehicleToBodyStyleConfig" (
    "VehicleToBodyStyleConfigID" INTEGER NOT NULL,
    "VehicleID" INTEGER NOT NULL,
    "BodyStyleConfigID" INTEGER NOT NULL,
    "Source" VARCHAR(10),
    CONSTRAINT "PK_VehicleToBodyStyleConfig" PRIMARY KEY ("VehicleToBodyStyleConfigID"),
    CONSTRAINT "FK_VehicleToBodyStyleConfig_Vehicle_VehicleID" FOREIGN KEY ("VehicleID") REFERENCES "Vehicle" ("VehicleID"),
    CONSTRAINT "FK_VehicleToBodyStyleConfig_BodyStyleConfig_BodyStyleConfigID" FOREIGN KEY ("BodyStyleConfigID") REFERENCES "BodyStyleConfig" ("BodyStyleConfigID")
);

CREATE TABLE "VehicleToBrakeConfig" (
    "VehicleToBrakeConfigID" INTEGER NOT NULL,
    "VehicleID" INTEGER NOT NULL,
    "BrakeConfigID" INTEGER NOT NULL,
    "Source" VARCHAR(10),
    CONSTRAINT "PK_VehicleToBrakeConfig" PRIMARY KEY ("VehicleToBrakeConfigID"),
    CONSTRAINT "FK_VehicleToBrakeConfig_Vehicle_VehicleID" FOREIGN KEY ("VehicleID") REFERENCES "Vehicle" ("VehicleID"),
    CONSTRAINT "FK_VehicleToBrakeConfig_BrakeConfig_BrakeConfigID" FOREIGN KEY ("BrakeConfigID") REFERENCES "BrakeConfig" ("BrakeConfigID")
);

CREATE TABLE "VehicleToClass" (
    "VehicleToClassID" INTEGER NOT NULL,
    "VehicleID" INTEGER NOT NULL,
    "ClassID" INTEGER NOT NULL,
    "Source" VARCHAR(10),
    CONSTRAINT "PK_VehicleToClass" PRIMARY KEY ("VehicleToClassID"),
    CONSTRAINT "FK_VehicleToClass_Vehicle_VehicleID" FOREIGN KEY ("VehicleID") REFERENCES "Vehicle" ("VehicleID"),
    CONSTRAINT "FK_VehicleToClass_Class_ClassID" FOREIGN KEY ("ClassID") REFERENCES "Class" ("ClassID")
);

CREATE TABLE "VehicleToDriveType" (
    "VehicleToDriveTypeID" INTEGER NOT NULL,
    "VehicleID" INTEGER NOT NULL,
    "DriveTypeID" INTEGER NOT NULL,
    "Source" VARCHAR(10),
    CONSTRAINT "PK_VehicleToDriveType" PRIMARY KEY ("VehicleToDriveTypeID"),
    CONSTRAINT "FK_VehicleToDriveType_Vehicle_VehicleID" FOREIGN KEY ("VehicleID") REFERENCES "Vehicle" ("VehicleID"),
    CONSTRAINT "FK_VehicleToDriveType_DriveType_DriveTypeID" FOREIGN KEY ("DriveTypeID") REFERENCES "DriveType" ("DriveTypeID")
);

CREATE TABLE "VehicleToEngineConfig" (
    "VehicleToEngineConfigID" INTEGER NOT NULL,
    "VehicleID" INTEGER NOT NULL,
    "EngineConfigID" INTEGER NOT NULL,
    "Source" VARCHAR(10),
    CONSTRAINT "PK_VehicleToEngineConfig" PRIMARY KEY ("VehicleToEngineConfigID"),
    CONSTRAINT "FK_VehicleToEngineConfig_Vehicle_VehicleID" FOREIGN KEY ("VehicleID") REFERENCES "Vehicle" ("VehicleID"),
    CONSTRAINT "FK_VehicleToEngineConfig_EngineConfig2_EngineConfigID" FOREIGN KEY ("EngineConfigID") REFERENCES "EngineConfig2" ("EngineConfigID")
);

CREATE TABLE "VehicleToMfrBodyCode" (
    "VehicleToMfrBodyCodeID" INTEGER NOT NULL,
    "VehicleID" INTEGER NOT NULL,
    "MfrBodyCodeID" INTEGER NOT NULL,
    "Source" VARCHAR(10),
    CONSTRAINT "PK_VehicleToMfrBodyCode" PRIMARY KEY ("VehicleToMfrBodyCodeID"),
    CONSTRAINT "FK_VehicleToMfrBodyCode_Vehicle_VehicleID" FOREIGN KEY ("VehicleID") REFERENCES "Vehicle" ("VehicleID"),
    CONSTRAINT "FK_VehicleToMfrBodyCode_MfrBodyCode_MfrBodyCodeID" FOREIGN KEY ("MfrBodyCodeID") REFERENCES "MfrBodyCode" ("MfrBodyCodeID")
);

CREATE TABLE "VehicleToSpringTypeConfig" (
    "VehicleToSpringTypeConfigID" INTEGER NOT NULL,
    "VehicleID" INTEGER NOT NULL,
    "SpringTypeConfigID" INTEGER NOT NULL,
    "Source" VARCHAR(10),
    CONSTRAINT "PK_VehicleToSpringTypeConfig" PRIMARY KEY ("VehicleToSpringTypeConfigID"),
    CONSTRAINT "FK_VehicleToSpringTypeConfig_Vehicle_VehicleID" FOREIGN KEY ("VehicleID") REFERENCES "Vehicle" ("VehicleID"),
    CONSTRAINT "FK_VehicleToSpringTypeConfig_SpringTypeConfig_SpringTypeConfigID" FOREIGN KEY ("SpringTypeConfigID") REFERENCES "SpringTypeConfig" ("SpringTypeConfigID")
);

CREATE TABLE "VehicleToSteeringConfig" (
    "VehicleToSteeringConfigID" INTEGER NOT NULL,
    "VehicleID" INTEGER NOT NULL,
    "SteeringConfigID" INTEGER NOT NULL,
    "Source" VARCHAR(10),
    CONSTRAINT "PK_VehicleToSteeringConfig" PRIMARY KEY ("VehicleToSteeringConfigID"),
    CONSTRAINT "FK_VehicleToSteeringConfig_Vehicle_VehicleID" FOREIGN KEY ("VehicleID") REFERENCES "Vehicle" ("VehicleID"),
    CONSTRAINT "FK_VehicleToSteeringConfig_SteeringConfig_SteeringConfigID" FOREIGN KEY ("SteeringConfigID") REFERENCES "SteeringConfig" ("SteeringConfigID")
);

CREATE TABLE "VehicleToTransmission" (
    "VehicleToTransmissionID" INTEGER NOT NULL,
    "VehicleID" INTEGER NOT NULL,
    "TransmissionID" INTEGER NOT NULL,
    "Source" VARCHAR(10),
    CONSTRAINT "PK_VehicleToTransmission" PRIMARY KEY ("VehicleToTransmissionID"),
    CONSTRAINT "FK_VehicleToTransmission_Vehicle_VehicleID" FOREIGN KEY ("VehicleID") REFERENCES "Vehicle" ("VehicleID"),
    CONSTRAINT "FK_VehicleToTransmission_Transmission_TransmissionID" FOREIGN KEY ("TransmissionID") REFERENCES "Transmission" ("TransmissionID")
);

CREATE TABLE "VehicleToWheelBase" (
    "VehicleToWheelBaseID" INTEGER NOT NULL,
    "VehicleID" INTEGER NOT NULL,
    "WheelBaseID" INTEGER NOT NULL,
    "Source" VARCHAR(10),
    CONSTRAINT "PK_VehicleToWheelBase" PRIMARY KEY ("VehicleToWheelBaseID"),
    CONSTRAINT "FK_VehicleToWheelBase_Vehicle_VehicleID" FOREIGN KEY ("VehicleID") REFERENCES "Vehicle" ("VehicleID")
);

CREATE TABLE "VehicleType" (
    "VehicleTypeID" INTEGER NOT NULL,
    "VehicleTypeName" VARCHAR(50) NOT NULL,
    "VehicleTypeGroupID" INTEGER,
    CONSTRAINT "PK_VehicleType" PRIMARY KEY ("VehicleTypeID")
);

CREATE TABLE "VehicleTypeGroup" (
    "VehicleTypeGroupID" INTEGER NOT NULL,
    "VehicleTypeGroupName" VARCHAR(50) NOT NULL
);

CREATE TABLE "Version" (
    "VersionDate" DATE NOT NULL
);

CREATE TABLE "WheelBase" (
    "WheelBaseID" INTEGER NOT NULL,
    "WheelBase" VARCHAR(10) NOT NULL,
    "WheelBaseMetric" VARCHAR(10) NOT NULL,
    CONSTRAINT "PK_WheelBase" PRIMARY KEY ("WheelBaseID")
);

CREATE TABLE "Year" (
    "YearID" INTEGER NOT NULL,
    CONSTRAINT "PK_Year" PRIMARY KEY ("YearID")
);
