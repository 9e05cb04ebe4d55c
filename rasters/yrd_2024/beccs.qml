<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="3.28.0-Firenze" styleCategories="AllStyleCategories" hasScaleBasedVisibilityFlag="0" minScale="1e+08" maxScale="0">
  <customproperties>
    <Option type="Map">
      <Option type="QString" name="gridcarbon/label" value="CCUS / BECCS geological storage" />
      <Option type="QString" name="gridcarbon/overviews" value="overviews hold sums: a zoomed-out pixel shows the t CO2/yr of all the cells it covers" />
      <Option type="QString" name="identify/format" value="Value" />
    </Option>
  </customproperties>
  <pipe>
    <rasterrenderer type="singlebandpseudocolor" band="1" opacity="1" alphaBand="-1" nodataColor="" classificationMin="-1000000" classificationMax="1000000">
      <rasterTransparency />
      <minMaxOrigin>
        <limits>None</limits>
        <extent>WholeRaster</extent>
        <statAccuracy>Estimated</statAccuracy>
        <cumulativeCutLower>0.02</cumulativeCutLower>
        <cumulativeCutUpper>0.98</cumulativeCutUpper>
        <stdDevFactor>2</stdDevFactor>
      </minMaxOrigin>
      <rastershader>
        <colorrampshader colorRampType="INTERPOLATED" classificationMode="1" clip="0" minimumValue="-1000000" maximumValue="1000000" labelPrecision="0">
          <colorramp type="gradient" name="[source]">
            <Option type="Map">
              <Option type="QString" name="color1" value="27,120,55,255" />
              <Option type="QString" name="color2" value="178,24,43,255" />
              <Option type="QString" name="discrete" value="0" />
              <Option type="QString" name="rampType" value="gradient" />
              <Option type="QString" name="stops" value="0.1;76,162,88,255:0.2;133,200,133,255:0.3;184,226,178,255:0.4;221,241,216,255:0.5;247,247,246,255:0.6;252,223,206,255:0.7;247,184,154,255:0.8;231,135,107,255:0.9;206,80,70,255" />
            </Option>
          </colorramp>
          <item alpha="255" value="-1000000" color="#1b7837" label="-1e6 t" />
          <item alpha="255" value="-100000" color="#4ca258" label="-1e5 t" />
          <item alpha="255" value="-10000" color="#85c885" label="-1e4 t" />
          <item alpha="255" value="-1000" color="#b8e2b2" label="-1e3 t" />
          <item alpha="255" value="-100" color="#ddf1d8" label="-1e2 t" />
          <item alpha="255" value="0" color="#f7f7f6" label="0 t" />
          <item alpha="255" value="100" color="#fcdfce" label="1e2 t" />
          <item alpha="255" value="1000" color="#f7b89a" label="1e3 t" />
          <item alpha="255" value="10000" color="#e7876b" label="1e4 t" />
          <item alpha="255" value="100000" color="#ce5046" label="1e5 t" />
          <item alpha="255" value="1000000" color="#b2182b" label="1e6 t" />
        </colorrampshader>
      </rastershader>
    </rasterrenderer>
    <brightnesscontrast gamma="1" brightness="0" contrast="0" />
    <huesaturation colorizeBlue="128" grayscaleMode="0" invertColors="0" colorizeRed="255" colorizeGreen="128" colorizeStrength="100" saturation="0" colorizeOn="0" />
    <rasterresampler maxOversampling="2" />
    <resamplingStage>resamplingFilter</resamplingStage>
  </pipe>
  <blendMode>0</blendMode>
</qgis>
