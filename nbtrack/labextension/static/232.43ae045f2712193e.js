"use strict";(self.rspackChunknbtrack=self.rspackChunknbtrack||[]).push([[232],{20(r,t,a){var e=a(21),o=a.n(e),n=a(22),i=(a.n(n))()(o());i.push([r.id,`/* nbtrack sidebar and run detail. Colours are JupyterLab theme variables, so the light
   and dark themes both read well; highlights are translucent tints under the theme's
   own text colour. */
.jp-nbtrack-Sidebar,
.jp-nbtrack-RunDetail {
  font-family: var(--jp-ui-font-family);
  font-size: var(--jp-ui-font-size1);
  color: var(--jp-ui-font-color1);
  background: var(--jp-layout-color1);
}

.jp-nbtrack-Sidebar {
  display: flex;
  flex-direction: column;
  gap: 6px;
  padding: 8px;
  box-sizing: border-box;
  min-width: 240px;
}

.jp-nbtrack-Sidebar-header {
  display: flex;
  align-items: center;
  justify-content: space-between;
}

.jp-nbtrack-Sidebar h2,
.jp-nbtrack-RunDetail h2 {
  margin: 0;
  font-size: var(--jp-ui-font-size2);
  font-weight: 600;
  color: var(--jp-ui-font-color0);
}

.jp-nbtrack-Sidebar-row {
  display: flex;
  align-items: center;
  gap: 6px;
}

.jp-nbtrack-Sidebar select,
.jp-nbtrack-Sidebar input[type='search'] {
  flex: 1;
  min-width: 0;
  font: inherit;
  color: var(--jp-ui-font-color1);
  background: var(--jp-input-background, var(--jp-layout-color1));
  border: var(--jp-border-width) solid
    var(--jp-input-border-color, var(--jp-border-color1));
  border-radius: 2px;
  padding: 3px 4px;
}

.jp-nbtrack-Sidebar input[type='search'] {
  font-family: var(--jp-code-font-family);
}

.jp-nbtrack-Sidebar-button {
  font: inherit;
  color: var(--jp-ui-font-color1);
  background: var(--jp-layout-color2);
  border: var(--jp-border-width) solid var(--jp-border-color1);
  border-radius: 2px;
  padding: 2px 8px;
  cursor: pointer;
}

.jp-nbtrack-Sidebar-error {
  color: var(--jp-ui-font-color1);
  background: rgb(211 47 47 / 16%);
  border-left: 3px solid var(--jp-error-color1);
  padding: 4px 6px;
  font-family: var(--jp-code-font-family);
  white-space: pre-wrap;
  overflow-wrap: anywhere;
}

.jp-nbtrack-Sidebar-error[hidden] {
  display: none;
}

.jp-nbtrack-Sidebar-scroll {
  flex: 1;
  overflow: auto;
  border: var(--jp-border-width) solid var(--jp-border-color2);
}

.jp-nbtrack-Sidebar-status {
  color: var(--jp-ui-font-color2);
}

.jp-nbtrack-Sidebar-table,
.jp-nbtrack-kv {
  border-collapse: collapse;
  font-variant-numeric: tabular-nums;
}

.jp-nbtrack-Sidebar-table th,
.jp-nbtrack-Sidebar-table td,
.jp-nbtrack-kv th,
.jp-nbtrack-kv td {
  border-bottom: var(--jp-border-width) solid var(--jp-border-color2);
  padding: 2px 6px;
  text-align: left;
  white-space: nowrap;
  color: var(--jp-ui-font-color1);
}

.jp-nbtrack-Sidebar-table th {
  position: sticky;
  top: 0;
  background: var(--jp-layout-color2);
  font-weight: 600;
}

.jp-nbtrack-Sidebar-table th.jp-nbtrack-sortable {
  cursor: pointer;
  user-select: none;
}

.jp-nbtrack-Sidebar-table th.jp-nbtrack-sortable:hover {
  background: var(--jp-layout-color3);
}

.jp-nbtrack-Sidebar-table th[aria-sort='ascending']::after {
  content: ' ▲';
}

.jp-nbtrack-Sidebar-table th[aria-sort='descending']::after {
  content: ' ▼';
}

.jp-nbtrack-num {
  text-align: right !important;
}

.jp-nbtrack-link {
  font: inherit;
  color: var(--jp-content-link-color);
  background: none;
  border: none;
  padding: 0;
  cursor: pointer;
  text-decoration: underline;
}

.jp-nbtrack-badge {
  display: inline-block;
  padding: 0 4px;
  border-radius: 2px;
  font-size: var(--jp-ui-font-size0);
  font-weight: 600;
  color: var(--jp-ui-font-color1);
  background: rgb(128 128 128 / 20%);
}

.jp-nbtrack-badge-running {
  background: rgb(33 150 243 / 28%);
}

.jp-nbtrack-badge-finished {
  background: rgb(76 175 80 / 25%);
}

.jp-nbtrack-badge-failed,
.jp-nbtrack-badge-killed {
  background: rgb(211 47 47 / 25%);
}

.jp-nbtrack-RunDetail {
  overflow: auto;
  padding: 12px 16px;
}

.jp-nbtrack-RunDetail h3 {
  margin: 16px 0 6px;
  font-size: var(--jp-ui-font-size1);
  font-weight: 600;
  color: var(--jp-ui-font-color0);
}

.jp-nbtrack-kv th {
  font-weight: 600;
  color: var(--jp-ui-font-color1);
}

.jp-nbtrack-kv td {
  white-space: pre-wrap;
  overflow-wrap: anywhere;
}

.jp-nbtrack-Sidebar-table tbody tr:hover td {
  background: rgb(33 150 243 / 12%);
}

.jp-nbtrack-empty {
  color: var(--jp-ui-font-color2);
  margin: 2px 0;
}

.jp-nbtrack-metrics {
  display: flex;
  flex-wrap: wrap;
  gap: 12px;
}

.jp-nbtrack-metric {
  margin: 0;
  padding: 6px;
  border: var(--jp-border-width) solid var(--jp-border-color2);
  border-radius: 2px;
}

.jp-nbtrack-metric figcaption {
  margin-bottom: 4px;
}

.jp-nbtrack-chart-frame {
  fill: none;
  stroke: var(--jp-border-color2);
}

.jp-nbtrack-chart-line {
  fill: none;
  stroke: var(--jp-brand-color1);
  stroke-width: 1.5;
}

.jp-nbtrack-chart-dot {
  fill: var(--jp-brand-color1);
}

.jp-nbtrack-chart-label {
  fill: var(--jp-ui-font-color2);
  font-size: 10px;
  font-family: var(--jp-ui-font-family);
}

.jp-nbtrack-artifacts {
  margin: 0;
  padding-left: 18px;
}

.jp-nbtrack-artifacts a {
  color: var(--jp-content-link-color);
}

.jp-nbtrack-code {
  font-family: var(--jp-code-font-family);
  font-size: var(--jp-code-font-size);
  color: var(--jp-content-font-color1);
  background: var(--jp-cell-editor-background);
  border: var(--jp-border-width) solid var(--jp-border-color2);
  padding: 8px;
  overflow: auto;
  max-height: 480px;
}

.jp-nbtrack-kv td.jp-nbtrack-diff {
  background: rgb(255 160 0 / 22%);
}

.jp-nbtrack-kv thead th {
  background: var(--jp-layout-color2);
}

.jp-nbtrack-swatch {
  display: inline-block;
  width: 10px;
  height: 10px;
  border-radius: 2px;
  vertical-align: baseline;
}

.jp-nbtrack-wide {
  overflow-x: auto;
}

.jp-nbtrack-Sidebar-actions {
  display: flex;
  gap: 6px;
  align-items: center;
}

.jp-nbtrack-Sidebar-button:disabled {
  cursor: default;
  opacity: 0.6;
}

.jp-nbtrack-Sidebar-table td.jp-nbtrack-pick,
.jp-nbtrack-Sidebar-table th.jp-nbtrack-pick {
  padding: 0 2px;
}

.jp-nbtrack-RunDetail .jp-nbtrack-Sidebar-button {
  margin: 2px 0 4px;
  padding: 0 6px;
}

.jp-nbtrack-preview img {
  max-width: 100%;
  max-height: 480px;
  background: white;
}

.jp-nbtrack-preview[hidden] {
  display: none;
}

.jp-nbtrack-Sidebar-view {
  display: flex;
  flex-direction: column;
  gap: 6px;
  flex: 1;
  min-height: 0;
}

.jp-nbtrack-Sidebar-view[hidden] {
  display: none;
}

.jp-nbtrack-Sidebar-tabs {
  display: flex;
  gap: 2px;
}

.jp-nbtrack-Sidebar-tabs [role='tab'] {
  font: inherit;
  color: var(--jp-ui-font-color1);
  background: none;
  border: none;
  border-bottom: 2px solid transparent;
  padding: 2px 6px;
  cursor: pointer;
}

.jp-nbtrack-Sidebar-tabs [role='tab'][aria-selected='true'] {
  border-bottom-color: var(--jp-brand-color1);
  font-weight: 600;
}

.jp-nbtrack-model {
  padding: 4px 0;
  border-bottom: var(--jp-border-width) solid var(--jp-border-color2);
}

.jp-nbtrack-model summary {
  cursor: pointer;
}

.jp-nbtrack-served {
  white-space: nowrap;
}

.jp-nbtrack-served code {
  font-family: var(--jp-code-font-family);
  font-size: var(--jp-code-font-size);
  color: var(--jp-ui-font-color1);
  user-select: all;
}

.jp-nbtrack-ArtifactViewer {
  overflow: auto;
  padding: 12px 16px;
  color: var(--jp-ui-font-color1);
  background: var(--jp-layout-color1);
}

.jp-nbtrack-ArtifactViewer .jp-RenderedImage img {
  max-width: 100%;
}
`,""]),a.d(t,{},{A:i})},22(r){r.exports=function(r){var t=[];return t.toString=function(){return this.map(function(t){var a="",e=void 0!==t[5];return t[4]&&(a+="@supports (".concat(t[4],") {")),t[2]&&(a+="@media ".concat(t[2]," {")),e&&(a+="@layer".concat(t[5].length>0?" ".concat(t[5]):""," {")),a+=r(t),e&&(a+="}"),t[2]&&(a+="}"),t[4]&&(a+="}"),a}).join("")},t.i=function(r,a,e,o,n){"string"==typeof r&&(r=[[null,r,void 0]]);var i={};if(e)for(var c=0;c<this.length;c++){var p=this[c][0];null!=p&&(i[p]=!0)}for(var d=0;d<r.length;d++){var l=[].concat(r[d]);e&&i[l[0]]||(void 0!==n&&(void 0===l[5]||(l[1]="@layer".concat(l[5].length>0?" ".concat(l[5]):""," {").concat(l[1],"}")),l[5]=n),a&&(l[2]&&(l[1]="@media ".concat(l[2]," {").concat(l[1],"}")),l[2]=a),o&&(l[4]?(l[1]="@supports (".concat(l[4],") {").concat(l[1],"}"),l[4]=o):l[4]="".concat(o)),t.push(l))}},t}},21(r){r.exports=function(r){return r[1]}},14(r){var t=[];function a(r){for(var a=-1,e=0;e<t.length;e++)if(t[e].identifier===r){a=e;break}return a}function e(r,e){for(var o={},n=[],i=0;i<r.length;i++){var c=r[i],p=e.base?c[0]+e.base:c[0],d=o[p]||0,l="".concat(p," ").concat(d);o[p]=d+1;var b=a(l),s={css:c[1],media:c[2],sourceMap:c[3],supports:c[4],layer:c[5]};if(-1!==b)t[b].references++,t[b].updater(s);else{var u=function(r,t){var a=t.domAPI(t);return a.update(r),function(t){t?(t.css!==r.css||t.media!==r.media||t.sourceMap!==r.sourceMap||t.supports!==r.supports||t.layer!==r.layer)&&a.update(r=t):a.remove()}}(s,e);e.byIndex=i,t.splice(i,0,{identifier:l,updater:u,references:1})}n.push(l)}return n}r.exports=function(r,o){var n=e(r=r||[],o=o||{});return function(r){r=r||[];for(var i=0;i<n.length;i++){var c=a(n[i]);t[c].references--}for(var p=e(r,o),d=0;d<n.length;d++){var l=a(n[d]);0===t[l].references&&(t[l].updater(),t.splice(l,1))}n=p}}},16(r){var t={};r.exports=function(r,a){var e=function(r){if(void 0===t[r]){var a=document.querySelector(r);if(window.HTMLIFrameElement&&a instanceof window.HTMLIFrameElement)try{a=a.contentDocument.head}catch(r){a=null}t[r]=a}return t[r]}(r);if(!e)throw Error("Couldn't find a style target. This probably means that the value for the 'insert' parameter is invalid.");e.appendChild(a)}},18(r){r.exports=function(r){var t=document.createElement("style");return r.setAttributes(t,r.attributes),r.insert(t,r.options),t}},17(r,t,a){r.exports=function(r){var t=a.nc;t&&r.setAttribute("nonce",t)}},15(r){r.exports=function(r){if("u"<typeof document)return{update:function(){},remove:function(){}};var t=r.insertStyleElement(r);return{update:function(a){var e,o,n;e="",a.supports&&(e+="@supports (".concat(a.supports,") {")),a.media&&(e+="@media ".concat(a.media," {")),(o=void 0!==a.layer)&&(e+="@layer".concat(a.layer.length>0?" ".concat(a.layer):""," {")),e+=a.css,o&&(e+="}"),a.media&&(e+="}"),a.supports&&(e+="}"),(n=a.sourceMap)&&"u">typeof btoa&&(e+="\n/*# sourceMappingURL=data:application/json;base64,".concat(btoa(unescape(encodeURIComponent(JSON.stringify(n))))," */")),r.styleTagTransform(e,t,r.options)},remove:function(){var r;null===(r=t).parentNode||r.parentNode.removeChild(r)}}}},19(r){r.exports=function(r,t){if(t.styleSheet)t.styleSheet.cssText=r;else{for(;t.firstChild;)t.removeChild(t.firstChild);t.appendChild(document.createTextNode(r))}}},13(r,t,a){var e=a(14),o=a.n(e),n=a(15),i=a.n(n),c=a(16),p=a.n(c),d=a(17),l=a.n(d),b=a(18),s=a.n(b),u=a(19),f=a.n(u),j=a(20),v={};v.styleTagTransform=f(),v.setAttributes=l(),v.insert=p().bind(null,"head"),v.domAPI=i(),v.insertStyleElement=s(),o()(j.A,v),j.A&&j.A.locals&&j.A.locals}}]);