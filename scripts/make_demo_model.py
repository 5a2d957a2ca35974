"""Write resources/mist_demo.model3: the demo's steps as a Processing model (Graphical Modeler).

    .venv/bin/python scripts/make_demo_model.py [--out resources/mist_demo.model3]

The model chains the same `mist:` algorithms as `make demo`, in the same order, with the inputs a
flood mapper brings: a store, post collections, a media folder, a verdicts table, reference imagery,
a gazetteer layer and a DEM. It is built with the PyQGIS model API (not written by hand), so it is
exactly what the Modeler would save; rerun this script when an algorithm's parameters change.

Qt writes each element's attributes in its hash order, which changes from one process to the next,
so the file is written with every element's attributes in name order: two runs give the same
bytes, and a change of the model shows as a change of the file, nothing else.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from mist_qgis.core.options import MATCHERS  # noqa: E402

# (child id, algorithm, description, {parameter: source}); a source is ("model", name),
# ("child", child id, output) or ("value", value). Each child also waits for the one before it,
# because they share the store rather than passing layers.
STEPS = [
    ("importposts", "mist:importposts", "Import posts",
     {"INPUTS": ("model", "posts"), "STORE": ("model", "store"), "FORMAT": ("value", "auto")}),
    ("fetchmedia", "mist:fetchmedia", "Fetch photos (offline from the media folder)",
     {"STORE": ("model", "store"), "OFFLINE": ("value", True), "MEDIA_DIR": ("model", "media")}),
    ("importverifications", "mist:importverifications", "Example verdicts",
     {"STORE": ("model", "store"), "INPUT": ("model", "verdicts")}),
    ("embed", "mist:classifymedia", "ImageNet backbone: labels and embeddings",
     {"STORE": ("model", "store"), "MODEL": ("model", "backbone")}),
    ("trainhead", "mist:trainhead", "Few-shot screening head",
     {"STORE": ("model", "store"), "BACKBONE": ("model", "backbone"), "MODEL_ID": ("value", "flood-head")}),
    ("screen", "mist:classifymedia", "Screen every photo with the head",
     {"STORE": ("model", "store"), "MODEL": ("child", "trainhead", "OUTPUT"),
      "ALLOW_NO_SKILL": ("model", "allow_no_skill")}),
    ("importreferences", "mist:importreferences", "Reference imagery",
     {"STORE": ("model", "store"), "INPUT": ("model", "references")}),
    ("geolocate", "mist:geolocatephotos", "Place posts from text, then match their photos",
     {"STORE": ("model", "store"), "MATCHER": ("model", "matcher"), "TOP_K": ("value", 3),
      "MIN_CONFIDENCE": ("model", "min_confidence"), "GAZETTEER": ("model", "gazetteer"),
      "NAME_FIELD": ("model", "name_field")}),
    ("density", "mist:postdensity", "Post density",
     {"STORE": ("model", "store"), "KIND": ("value", "all"), "RADIUS": ("value", 100.0), "PIXEL_SIZE": ("value", 5.0)}),
    ("inundation", "mist:inundation", "Inundation depth and extent",
     {"STORE": ("model", "store"), "DEM": ("model", "dem")}),
    ("export", "mist:exportverified", "Export verified flood points",
     {"STORE": ("model", "store"), "VERDICTS": ("value", ["flood"])}),
]
# child id -> (its destination parameter, the model output's name)
OUTPUTS = {
    "density": ("OUTPUT_FOLDER", "Density rasters"),
    "inundation": ("OUTPUT_FOLDER", "Inundation depth and extent"),
    "export": ("OUTPUT", "Verified flood points"),
}


def model_parameters() -> list:
    from qgis.core import (
        QgsProcessing,
        QgsProcessingParameterBoolean,
        QgsProcessingParameterEnum,
        QgsProcessingParameterField,
        QgsProcessingParameterFile,
        QgsProcessingParameterMultipleLayers,
        QgsProcessingParameterNumber,
        QgsProcessingParameterRasterLayer,
        QgsProcessingParameterString,
        QgsProcessingParameterVectorLayer,
    )

    folder = QgsProcessingParameterFile.Behavior.Folder
    return [
        QgsProcessingParameterFile("store", "Store (GeoPackage, created if missing)", extension="gpkg"),
        QgsProcessingParameterMultipleLayers("posts", "Post collection files", QgsProcessing.SourceType.TypeFile),
        QgsProcessingParameterFile("media", "Media folder (photos of the export)", folder),
        QgsProcessingParameterFile("verdicts", "Verdicts table (CSV: post_id, verdict, water_depth_m, ...)",
                                   extension="csv"),
        QgsProcessingParameterString("backbone", "Image embedding model (id or .onnx)",
                                     defaultValue="efficientnet-lite0"),
        QgsProcessingParameterFile("references", "Reference imagery (CSV: id, lon, lat, heading, path)",
                                   extension="csv"),
        QgsProcessingParameterVectorLayer("gazetteer", "Gazetteer (named roads and places)",
                                          [QgsProcessing.SourceType.TypeVectorAnyGeometry], optional=True),
        QgsProcessingParameterField("name_field", "Gazetteer name field", defaultValue="name",
                                    parentLayerParameterName="gazetteer", optional=True),
        QgsProcessingParameterBoolean("allow_no_skill", "Screen even with a head that showed no skill (tick it for "
                                      "the sample: its photos show no flood)", defaultValue=False),
        QgsProcessingParameterEnum("matcher", "Photo matcher", options=list(MATCHERS.names),
                                   defaultValue=MATCHERS.default, usesStaticStrings=True),
        QgsProcessingParameterNumber("min_confidence", "Minimum confidence to move a post",
                                     QgsProcessingParameterNumber.Type.Double, 0.8, minValue=0.0, maxValue=1.0),
        QgsProcessingParameterRasterLayer("dem", "DEM"),
    ]


def _fill_defaults(child, given: dict) -> None:
    """Every other input parameter at the algorithm's default, as the Modeler's dialog would save it."""
    from qgis.core import QgsApplication, QgsProcessingModelChildParameterSource, QgsProcessingParameterDefinition

    algorithm = QgsApplication.processingRegistry().algorithmById(child.algorithmId())
    if algorithm is None:
        raise SystemExit(f"algorithm {child.algorithmId()} is not registered")
    for definition in algorithm.parameterDefinitions():
        if definition.name() in given or definition.isDestination():
            continue
        optional = definition.flags() & QgsProcessingParameterDefinition.Flag.FlagOptional
        if optional and definition.defaultValue() is None:
            continue
        child.addParameterSources(definition.name(),
                                  [QgsProcessingModelChildParameterSource.fromStaticValue(definition.defaultValue())])


def build_model():
    from qgis.core import (
        QgsProcessingModelAlgorithm,
        QgsProcessingModelChildAlgorithm,
        QgsProcessingModelChildDependency,
        QgsProcessingModelChildParameterSource,
        QgsProcessingModelOutput,
        QgsProcessingModelParameter,
    )
    from qgis.PyQt.QtCore import QPointF, QSizeF

    model = QgsProcessingModelAlgorithm("MIST flood mapping (demo steps)", "MIST")
    model.setHelpContent({
        "ALG_DESC": "MIST's whole job, as `make demo` runs it: import posts, fetch their photos, add verdicts, "
                    "screen with an ImageNet backbone and a few-shot head, geolocate posts from text and photos, "
                    "then post density, inundation depth and extent from the verified depths and a DEM, and an "
                    "export of the verified flood points. Open resources/sample/ for example inputs.",
        "ALG_CREATOR": "MIST", "ALG_HELP_CREATOR": "MIST",
    })
    for i, definition in enumerate(model_parameters()):
        component = QgsProcessingModelParameter(definition.name())
        component.setPosition(QPointF(120, 80 + 70 * i))
        component.setDescription(definition.description())
        model.addModelParameter(definition, component)
    previous = None
    for i, (child_id, algorithm, description, sources) in enumerate(STEPS):
        child = QgsProcessingModelChildAlgorithm(algorithm)
        child.setChildId(child_id)
        child.setDescription(description)
        child.setPosition(QPointF(520, 80 + 95 * i))
        child.setSize(QSizeF(260, 50))
        for name, source in sources.items():
            kind = source[0]
            if kind == "model":
                value = QgsProcessingModelChildParameterSource.fromModelParameter(source[1])
            elif kind == "child":
                value = QgsProcessingModelChildParameterSource.fromChildOutput(source[1], source[2])
            else:
                value = QgsProcessingModelChildParameterSource.fromStaticValue(source[1])
            child.addParameterSources(name, [value])
        _fill_defaults(child, sources)
        if previous is not None:
            child.setDependencies([QgsProcessingModelChildDependency(previous)])
        if child_id in OUTPUTS:
            parameter, name = OUTPUTS[child_id]
            output = QgsProcessingModelOutput(name, name)
            output.setChildId(child_id)
            output.setChildOutputName(parameter)
            output.setPosition(QPointF(860, 80 + 95 * i))
            child.setModelOutputs({name: output})
        model.addChildAlgorithm(child)
        previous = child_id
    model.updateDestinationParameters()
    return model


_START_TAG = re.compile(r'<([A-Za-z_][\w.:-]*)((?:\s+[^\s=/>]+="[^"]*")+)\s*(/?)>')
_ATTRIBUTE = re.compile(r'([^\s=/>]+)="([^"]*)"')


def sorted_attributes(xml: str) -> str:
    """The same XML with each start tag's attributes in name order (values are untouched: Qt
    escapes a double quote inside a value, so a value never holds one)."""
    def tag(match: re.Match) -> str:
        attributes = sorted(_ATTRIBUTE.findall(match.group(2)))
        return "<" + match.group(1) + "".join(f' {k}="{v}"' for k, v in attributes) + match.group(3) + ">"

    return _START_TAG.sub(tag, xml)


def write_model(model, out: str | Path) -> bool:
    """Write the model as the Modeler does, then put its attributes in a stable order."""
    if not model.toFile(str(out)):
        return False
    path = Path(out)
    path.write_bytes(sorted_attributes(path.read_bytes().decode("utf-8")).encode("utf-8"))
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(REPO / "resources" / "mist_demo.model3"))
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from mist_qgis.headless import init_processing

    init_processing()
    model = build_model()
    ok, problems = model.validate()
    if not ok:
        print("model does not validate: " + "; ".join(problems), file=sys.stderr)
        return 1
    if not write_model(model, args.out):
        print(f"cannot write {args.out}", file=sys.stderr)
        return 1
    print(f"model written to {args.out}: {len(model.childAlgorithms())} steps")
    return 0


if __name__ == "__main__":
    sys.exit(main())
